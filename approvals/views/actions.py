"""The request page's controls: extend the deadline, decide as an administrator override.

Both go through the workflow's Updates (`services.deadline_extend`, the decision path
with `override=True`); the validator is the authority and its refusal is shown in
words where the control is. Success re-renders the request (htmx) or redirects to it,
with the new state already projected, so the due time moves on the page at once.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from accounts import stepup

from .. import selectors, services
from ..forms.actions import ExtendForm, OverrideForm
from ..stepup import approval_needs_step_up, purpose
from ..stepup import reason as step_up_reason
from ..templatetags.when import when
from .requests import _render_detail


def _done(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx:
        return _render_detail(request, selectors.access_request(user=request.user, pk=pk))
    return redirect("request-detail", pk=pk)


def _again(request: HttpRequest, pk: int, **forms) -> HttpResponse:
    """The page with the control's errors (htmx 2 swaps only 2xx; a plain POST gets 400)."""
    expense = selectors.access_request(user=request.user, pk=pk)
    return _render_detail(request, expense, status=200 if request.htmx else 400, **forms)


@login_required
@require_POST
def request_extend(request: HttpRequest, pk: int) -> HttpResponse:
    expense = selectors.access_request(user=request.user, pk=pk)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        return _again(request, pk, extend_form=form)
    try:
        state = services.deadline_extend(
            request=expense,
            actor=request.user,
            seconds=form.cleaned_data["seconds"],
            reason=form.cleaned_data.get("reason", ""),
        )
    except services.ServiceError as exc:
        form.add_error(None, exc.message)
        return _again(request, pk, extend_form=form)
    messages.success(request, _("The deadline is now %(due)s.") % {"due": when(state.due_at)})
    return _done(request, pk)


@login_required
@require_POST
def request_override(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator decides a level that waits on someone else (recorded as such)."""
    expense = selectors.access_request(user=request.user, pk=pk)
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only administrators can override a decision."))
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _again(request, pk, override_form=form)
    data = form.cleaned_data
    if approval_needs_step_up(expense, data["action"]):
        prompt = stepup.check(request, purpose=purpose(expense), reason=step_up_reason())
        if prompt is not None:
            # A plain form in the page's body: confirmed, it posts again and redirects.
            response = stepup.render_prompt(
                request,
                prompt,
                action=request.path,
                carry={**request.POST.dict(), "password": None, "stepup_credential": None,
                       "csrfmiddlewaretoken": None},
            )
            if request.htmx:
                retarget(response, "#request-body")
                reswap(response, "innerHTML")
            return response
    try:
        services.decision_record(
            request=expense,
            actor=request.user,
            action=data["action"],
            comment=data["reason"],
            decision_id=data.get("decision_id") or None,
            level=data.get("level") or 0,
            override=True,
        )
    except services.ServiceError as exc:
        form.add_error(None, exc.message)
        return _again(request, pk, override_form=form)
    words = _("Approved as an administrator override.")
    if data["action"] == "reject":
        words = _("Rejected as an administrator override.")
    messages.success(request, words)
    return _done(request, pk)
