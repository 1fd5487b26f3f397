"""`/`: the signed-in person's overview, per role.

Everyone: what waits for me (count, overdue, the oldest, the nearest deadlines), my open
requests with where each stands, delegations in force both ways. Admins also: what
needs attention on /ops/, in numbers. The body is a named partial that refreshes itself
when a live event arrives (like the inbox and the request page).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from ..selectors import home as home_selectors


@require_GET
@vary_on_headers("HX-Request")
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    user = request.user
    given, received = home_selectors.delegations_in_force(user)
    waiting = home_selectors.waiting_for(user)
    principals = {d.user.username for d in received}
    names = home_selectors.display_names(n for r in waiting.first for n in r.pending_approvers)
    context = {
        "waiting": waiting,
        # (request, whom I decide it for: "" when it waits on me myself)
        "waiting_rows": [
            (r, "" if user.username in r.pending_approvers else names.get(p, p))
            for r in waiting.first
            for p in [next((n for n in r.pending_approvers if n in principals), "")]
        ],
        "mine": home_selectors.open_requests(user),
        "given": given,
        "received": received,
        "attention": home_selectors.attention() if user.is_superuser else None,
    }
    template = "approvals/home.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#home-body"
    return render(request, template, context)
