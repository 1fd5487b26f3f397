"""`/policy/` (superusers only): the policy versions, the one draft (edit, check,
publish, discard) and the what-if of a draft on real past requests.

GETs change nothing (opening a draft is a POST); every write goes through
`services.py`; a published version is read-only here and everywhere.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..forms.checks import ACTION_CHOICES, ChecksForm, LimitFormSet, checks_initial
from ..forms.checks import checks_of as form_checks
from ..models import PolicyStatus
from ..selectors.flags_what_if import flags_what_if
from ..spend_checks import SpendChecks
from . import services as policy_services
from .forms import PolicyForm, PublishForm, RuleFormSet, WhatIfForm, initial_of
from .forms import rules_of as form_rules
from .selectors import access_version, policy_versions, what_if
from .versions import effective_version, rules_of
from .words import group_name, problem_text


def _require_admin(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    versions = policy_versions()
    current = effective_version()
    return render(
        request,
        "approvals/policy_list.html",
        {
            "versions": versions,
            "current": current,
            "draft": next((v for v in versions if v.status == PolicyStatus.DRAFT), None),
        },
    )


@login_required
@require_POST
def policy_draft(request: HttpRequest) -> HttpResponse:
    """Open the draft (a copy of the version in force when there is none)."""
    _require_admin(request)
    draft = policy_services.policy_draft_open(by=request.user)
    return redirect("policy-detail", number=draft.number)


def _check_words(checks: SpendChecks) -> dict[str, str]:
    words = dict(ACTION_CHOICES)
    names = ("receipt", "limits", "duplicates", "near_duplicates", "splits", "weekend", "holiday")
    return {name: str(words.get(getattr(checks, name), "")) for name in names}


def _detail(
    request,
    version,
    *,
    form=None,
    formset=None,
    checks_form=None,
    limit_formset=None,
    publish_form=None,
    status=200,
):
    rules = rules_of(version)
    is_draft = version.status == PolicyStatus.DRAFT
    if is_draft and form is None:
        top, rows = initial_of(rules)
        form = PolicyForm(initial={**top, "note": version.note})
        formset = RuleFormSet(initial=rows, prefix="rule")
    if is_draft and checks_form is None:
        top, rows = checks_initial(SpendChecks.from_dict(rules.checks))
        checks_form = ChecksForm(initial=top, prefix="checks")
        limit_formset = LimitFormSet(initial=rows, prefix="limit")
    problems = [problem_text(p) for p in policy_services.policy_problems(rules)] if is_draft else []
    return render(
        request,
        "approvals/policy_detail.html",
        {
            "version": version,
            "rules": rules,
            "is_draft": is_draft,
            "form": form,
            "formset": formset,
            "checks_form": checks_form,
            "limit_formset": limit_formset,
            "checks": SpendChecks.from_dict(rules.checks) if rules.checks else None,
            "check_words": _check_words(SpendChecks.from_dict(rules.checks)),
            "problems": problems,
            "publish_form": publish_form or PublishForm(),
            "group_name": group_name,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_detail(request: HttpRequest, number: int) -> HttpResponse:
    """A version, read-only; the draft's page edits it (POST saves it)."""
    _require_admin(request)
    version = access_version(number=number)
    if request.method != "POST":
        return _detail(request, version)
    if version.status != PolicyStatus.DRAFT:
        messages.error(request, _("Published versions never change; open a draft instead."))
        return redirect("policy-detail", number=number)
    form = PolicyForm(request.POST)
    formset = RuleFormSet(request.POST, prefix="rule")
    kept = SpendChecks.from_dict(rules_of(version).checks)
    # A POST without the checks part leaves the draft's checks as they are.
    with_checks = "checks-receipt" in request.POST
    checks_form = ChecksForm(request.POST, prefix="checks") if with_checks else None
    limit_formset = LimitFormSet(request.POST, prefix="limit") if with_checks else None
    valid = form.is_valid() and formset.is_valid()
    if with_checks:
        valid = checks_form.is_valid() and limit_formset.is_valid() and valid
    if not valid:
        return _detail(
            request,
            version,
            form=form,
            formset=formset,
            checks_form=checks_form,
            limit_formset=limit_formset,
            status=400,
        )
    rules = form_rules(form, formset)
    checks = form_checks(checks_form, limit_formset, kept) if with_checks else kept
    rules.checks = checks.to_dict() if (with_checks or rules_of(version).checks) else {}
    found = policy_services.policy_draft_save(
        draft=version, rules=rules, note=form.cleaned_data["note"]
    )
    if found:
        messages.warning(request, _("The draft is saved; fix the problems below to publish it."))
    else:
        messages.success(request, _("The draft is saved."))
    return redirect("policy-detail", number=number)


@login_required
@require_POST
def policy_publish(request: HttpRequest, number: int) -> HttpResponse:
    _require_admin(request)
    version = access_version(number=number)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            policy_services.policy_publish(
                draft=version, by=request.user, effective_from=form.cleaned_data["effective_from"]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for errors in exc.message_dict.values():
                    for error in errors:
                        form.add_error("effective_from", error)
            else:
                for error in exc.messages:
                    form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Version %(n)s is published from %(day)s. Requests submitted before keep "
                    "their version."
                )
                % {"n": number, "day": form.cleaned_data["effective_from"]},
            )
            return redirect("policy-list")
    return _detail(request, version, publish_form=form, status=400)


@login_required
@require_POST
def policy_discard(request: HttpRequest, number: int) -> HttpResponse:
    _require_admin(request)
    version = access_version(number=number)
    if version.status != PolicyStatus.DRAFT:
        messages.error(request, _("Published versions are kept for ever."))
        return redirect("policy-detail", number=number)
    policy_services.policy_draft_discard(draft=version)
    messages.success(request, _("The draft is discarded."))
    return redirect("policy-list")


@login_required
@require_GET
def policy_what_if(request: HttpRequest, number: int) -> HttpResponse:
    """What the version would have done to the requests of a period (nothing is changed)."""
    _require_admin(request)
    version = access_version(number=number)
    form = WhatIfForm(request.GET)  # no parameters: the last 90 days
    result = flags = None
    if form.is_valid():
        start, end = form.period()
        result = what_if(draft=version, start=start, end=end)
        flags = flags_what_if(
            requests=[row.request for row in result.rows],
            rules=rules_of(version),
            start=start,
            end=end,
        )
    return render(
        request,
        "approvals/policy_what_if.html",
        {
            "version": version,
            "form": form,
            "result": result,
            "flags": flags,
            "group_name": group_name,
        },
        status=200 if result is not None else 400,
    )
