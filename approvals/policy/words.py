"""Policy words: level names in a chain and the validation problems of a draft, in the
reader's language (the pure module `rules.py` speaks in codes)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..amounts import minor_text
from ..workflow.contract import LevelKind
from .rules import Problem, ProblemCode

# Group names as the chain shows them (the auth group "finance" is "Finance"/"Finanzen").
GROUP_NAMES = {"finance": _("Finance"), "IT": _("IT")}

PROBLEMS = {
    ProblemCode.THRESHOLDS_ORDER: _(
        "The amount for two management levels must be above zero and below the amount "
        "for three levels."
    ),
    ProblemCode.MAXIMUM_TOO_LOW: _("The maximum amount must be above zero."),
    ProblemCode.NO_NAME: _("Rule %(rule)s has no name."),
    ProblemCode.NO_LEVELS: _("Rule %(rule)s adds no level: choose a manager, a person or a group."),
    ProblemCode.EMPTY_RANGE: _(
        "Rule %(rule)s can never apply: its amount range is empty (the lower bound is not "
        "below the upper bound)."
    ),
    ProblemCode.ABOVE_MAXIMUM: _(
        "Rule %(rule)s can never be reached: it starts at or above the maximum amount of "
        "%(maximum)s EUR, and larger requests are refused."
    ),
    ProblemCode.MANAGER_RANGE: _("Rule %(rule)s: the manager level must be between 1 and %(max)s."),
    ProblemCode.UNKNOWN_PERSON: _("Rule %(rule)s names %(person)s, who is not an active person."),
    ProblemCode.UNKNOWN_GROUP: _("Rule %(rule)s names the group %(group)s, which does not exist."),
    ProblemCode.EMPTY_GROUP: _(
        "Rule %(rule)s adds the group %(group)s, which has no active member: its level "
        "would always go to the administrators. Add members in the admin first."
    ),
    ProblemCode.OVERLAP: _(
        "Rules %(other)s and %(rule)s overlap: a request can match both, and both add the "
        "same level. Narrow one of them or merge them."
    ),
    # The spend checks (approvals/spend_rules.py).
    "check_action": _("A spend check (%(check)s) must be off, warn or block submission."),
    "check_negative": _("The amount from which a receipt is required cannot be negative."),
    "check_category": _("A spend check names the category %(category)s, which does not exist."),
    "check_tolerance": _("The tolerance for similar amounts must be between 0 and %(max)s %%."),
    "check_days": _("The number of days of a spend check must be between 0 and %(max)s."),
    "limit_positive": _("Limit %(limit)s must be above zero."),
    "limit_per": _("Limit %(limit)s must be per line, night, person or day."),
    "limit_twice": _(
        "Limit %(limit)s repeats an earlier limit (same category, unit and words): merge them."
    ),
}


def group_name(group: str) -> str:
    return str(GROUP_NAMES.get(group, group))


def level_name(step) -> str:
    """What a chain shows for a level besides its approvers ("" for a manager level)."""
    if step.kind == LevelKind.GROUP:
        return group_name(step.label)
    return ""


def problem_text(problem: Problem) -> str:
    params = dict(problem.params, rule=problem.rule)
    if "maximum" in params:
        params["maximum"] = minor_text(params["maximum"])
    words = PROBLEMS.get(problem.code)
    return str(words) % params if words else problem.code
