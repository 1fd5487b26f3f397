"""Decision links from mails: /links/<token>/.

GET changes nothing (mail scanners prefetch links): it shows the request's
summary and a confirmation form, or what happened if the link is dead. POST
decides by Signal with the link's own decision id and shows the outcome.
Only the person the link was made for may use it; anyone else gets a plain
403 without a word about the request. So does its own recipient once they may
no longer see the request (a delegate whose delegation ended): the page shows
nothing of it and sends nothing. A bad link is a page, never a 500.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts import stepup

from ..forms.links import LinkDecisionForm
from ..links import LinkInvalid, read_token
from ..models import ExpenseRequest
from ..selectors.lines import approved_total, lines_of, report_total
from ..selectors.links import link_outcome, link_outcome_from_projection, may_open_link
from ..services.common import ServiceError
from ..services.links import link_decide, link_state
from ..stepup import approval_needs_step_up, purpose
from ..stepup import reason as step_up_reason


def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "approvals/link_refused.html", {"reason": reason}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def decision_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim, expired = read_token(token)
    except LinkInvalid:
        return _refused(request, "invalid", 400)
    if claim.username != request.user.get_username():
        return _refused(request, "not_yours", 403)
    expense = ExpenseRequest.objects.select_related("requester").filter(pk=claim.request_id).first()
    if expense is None:
        return _refused(request, "missing", 404)

    state = link_state(expense)
    if not may_open_link(user=request.user, request=expense, state=state):
        return _refused(request, "no_longer_yours", 403)
    if state is not None:
        outcome = link_outcome(claim, state, expired=expired)
    else:
        outcome = link_outcome_from_projection(claim, expense, expired=expired)
    lines = lines_of(expense)
    context = {
        "expense": expense,
        "claim": claim,
        "outcome": outcome,
        # What is decided, receipts included (the person may see the request: checked above).
        "lines": lines,
        "lines_total": report_total(lines),
        "approved": approved_total(lines),
    }
    if outcome is not None:
        return render(request, "approvals/link.html", context)

    data = request.POST if request.method == "POST" else None
    form = LinkDecisionForm(data, action=claim.action)
    context["form"] = form
    needs_step_up = approval_needs_step_up(expense, claim.action)
    if request.method == "GET" or not form.is_valid():
        if needs_step_up:
            context["prompt"] = stepup.prompt(
                request, purpose=purpose(expense), reason=step_up_reason()
            )
        return render(request, "approvals/link.html", context, status=200 if data is None else 400)
    if needs_step_up:
        # Nothing is sent until the person confirms (accounts/stepup.py).
        prompt = stepup.check(request, purpose=purpose(expense), reason=step_up_reason())
        if prompt is not None:
            context["prompt"] = prompt
            return render(request, "approvals/link.html", context, status=403)
    try:
        context["outcome"] = link_decide(
            user=request.user, request=expense, claim=claim, comment=form.cleaned_data["comment"]
        )
    except ServiceError as exc:
        context["error"] = exc.message
        return render(request, "approvals/link.html", context, status=503)
    return render(request, "approvals/link.html", context)
