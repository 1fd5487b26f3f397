"""`/ops/` (superusers only): what needs attention, and actions safe to repeat.

Every action is a POST that ends in a redirect back to `/ops/` with a message;
repeating one does nothing more (a started workflow is not started twice, a
resent mail is marked sent, a dismissed issue stays dismissed).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import ports
from ..people import display_names
from ..selectors.ops import ops_overview
from ..services import ops as ops_services
from ..services.common import ServiceError
from ..services.leavers import request_reroute
from ..temporal.client import TemporalUnavailable


def _require_admin(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


@login_required
@require_GET
def ops_page(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(
        request,
        "approvals/ops.html",
        {
            "overview": ops_overview(),
            # The sections other apps add (payouts: failed payouts, stuck batches).
            "ops_panels": ports.ops_panels(),
        },
    )


@login_required
@require_POST
def ops_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a queued request's workflow now (the reconciler would do it on its next pass)."""
    _require_admin(request)
    try:
        found = ops_services.queued_start(request_id=pk)
    except TemporalUnavailable:
        messages.error(
            request,
            _("Temporal is still unreachable; request #%(id)s stays queued.") % {"id": pk},
        )
    else:
        if found:
            messages.success(request, _("The workflow of request #%(id)s is running.") % {"id": pk})
        else:
            messages.info(request, _("There is no request #%(id)s.") % {"id": pk})
    return redirect("ops")


@login_required
@require_POST
def ops_resend(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    if ops_services.mail_resend(notification_id=pk):
        messages.success(request, _("The mail was sent."))
    else:
        messages.info(
            request,
            _("The mail was not sent now: it was sent already, or it failed again (see below)."),
        )
    return redirect("ops")


@login_required
@require_POST
def ops_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    if ops_services.issue_dismiss(issue_id=pk):
        messages.success(request, _("Marked as resolved."))
    return redirect("ops")


@login_required
@require_POST
def ops_reroute(request: HttpRequest, pk: int) -> HttpResponse:
    """Route a request's current level again (it waits on nobody, or on the wrong people)."""
    _require_admin(request)
    try:
        state = request_reroute(request_id=pk, by=request.user.username)
    except ServiceError as exc:
        messages.error(request, f"#{pk}: {exc.message}")
    else:
        if state.pending_approvers:
            messages.success(
                request,
                _("Request #%(id)s now waits on %(who)s.")
                % {"id": pk, "who": display_names(state.pending_approvers)},
            )
        else:
            # Not a dead end: the request page offers the override that mends it.
            messages.info(
                request,
                format_html(
                    '{} <a href="{}" data-testid="ops-open-override">{}</a>',
                    _("Request #%(id)s still has nobody who may decide it.") % {"id": pk},
                    reverse("request-detail", args=[pk]),
                    _("Decide it as an administrator on its page."),
                ),
            )
    return redirect("ops")
