"""The live approval state of one request, asked of its workflow (`get_status`)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import User

from .. import selectors, services


@login_required
@require_GET
def request_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The request's live approval state from the workflow (the `get_status` query).

    A fragment for the detail page and the inbox rows; it refreshes itself when
    a live event about this request arrives. When the workflow cannot be asked
    (not started yet, Temporal away, past retention) it says so and the page's
    own (projected) state stands.
    """
    expense = selectors.access_request(user=request.user, pk=pk)
    state = None
    if expense.workflow_started_at is not None:
        state = services.status_query_quietly(expense)
    level = None
    if state is not None and state.levels and 0 < state.current_level <= len(state.levels):
        level = state.levels[state.current_level - 1]
    names = set(state.pending_approvers) if state else set()
    people_by_name = {u.username: u.display_name for u in User.objects.filter(username__in=names)}
    context = {
        "expense": expense,
        "state": state,
        "level": level,
        "pending": [
            (n, people_by_name.get(n, n)) for n in (state.pending_approvers if state else [])
        ],
        "due_at": datetime.fromisoformat(state.due_at) if state and state.due_at else None,
    }
    return render(request, "approvals/_request_live.html", context)
