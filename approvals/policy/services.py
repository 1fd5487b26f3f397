"""Writes of the approval policy: the one draft, its rules, publishing it.

Published versions never change: a request pins the version in force at its
submission (`expense_submit`) and its workflow evaluates that version to its
end, so publishing touches no running workflow. A draft starts as a copy of
the version in force; publishing refuses a draft with problems
(`rules.problems`, worded by `words`) and an effective
date in the past (requests already submitted keep theirs anyway).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..models import Category, PolicyStatus, PolicyVersion
from ..spend_checks import SpendChecks
from ..spend_rules import problems as check_problems
from .rules import PolicyRules, Problem, problems
from .versions import OrgCache, effective_version, ensure_demo_policy, next_number
from .words import problem_text


def policy_problems(rules: PolicyRules) -> list[Problem]:
    found = problems(rules, OrgCache().validation_snapshot())
    categories = [c for c, _label in Category.choices]
    for p in check_problems(SpendChecks.from_dict(rules.checks), categories):
        found.append(Problem(p.code, 0, p.params))
    return found


@transaction.atomic
def policy_draft_open(*, by: User) -> PolicyVersion:
    """The draft, made from the version in force when there is none (one draft at most)."""
    draft = PolicyVersion.objects.select_for_update().filter(status=PolicyStatus.DRAFT).first()
    if draft is not None:
        return draft
    base = effective_version() or ensure_demo_policy()
    try:
        with transaction.atomic():
            return PolicyVersion.objects.create(
                number=next_number(),
                status=PolicyStatus.DRAFT,
                rules=base.rules,
                note=_("Draft based on version %(number)s") % {"number": base.number},
                created_by=by,
            )
    except IntegrityError:  # someone opened it at the same moment
        return PolicyVersion.objects.get(status=PolicyStatus.DRAFT)


@transaction.atomic
def policy_draft_save(*, draft: PolicyVersion, rules: PolicyRules, note: str = "") -> list[Problem]:
    """Store the draft's rules (saved even with problems: they block publishing only)."""
    draft = PolicyVersion.objects.select_for_update().get(pk=draft.pk)
    if draft.status != PolicyStatus.DRAFT:
        raise ValidationError(_("Only a draft can be changed; published versions never change."))
    draft.rules = rules.to_dict()
    draft.note = note
    draft.save(update_fields=["rules", "note"])
    return policy_problems(rules)


@transaction.atomic
def policy_publish(*, draft: PolicyVersion, by: User, effective_from: date) -> PolicyVersion:
    """Publish the draft from `effective_from` (today or later). Raises ValidationError."""
    draft = PolicyVersion.objects.select_for_update().get(pk=draft.pk)
    if draft.status != PolicyStatus.DRAFT:
        raise ValidationError(_("This version is already published."))
    if effective_from < timezone.localdate():
        raise ValidationError({"effective_from": [_("The effective date cannot be in the past.")]})
    found = policy_problems(PolicyRules.from_dict(draft.rules))
    if found:
        raise ValidationError([problem_text(p) for p in found])
    draft.status = PolicyStatus.PUBLISHED
    draft.effective_from = effective_from
    draft.published_by, draft.published_at = by, timezone.now()
    draft.save(update_fields=["status", "effective_from", "published_by", "published_at"])
    return draft


@transaction.atomic
def policy_draft_discard(*, draft: PolicyVersion) -> None:
    PolicyVersion.objects.filter(pk=draft.pk, status=PolicyStatus.DRAFT).delete()
