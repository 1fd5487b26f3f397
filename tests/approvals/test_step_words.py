"""Step kinds in words (approvals/step_words.py) and their typed details
(approvals/workflow/details.py): one registry entry per StepKind, worded in English and
German, and details that stay plain dicts with the keys the transitions always wrote."""

from __future__ import annotations

import gettext
import typing

import pytest
from django.utils import translation

from approvals import step_words
from approvals.workflow import details
from approvals.workflow.contract import StepKind
from tests.support import ROOT

MO = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.mo"


class FakeNames:
    def __call__(self, username: str) -> str:
        return username.title()

    def many(self, usernames) -> str:
        return ", ".join(self(n) for n in usernames or []) or "—"


# A detail as each kind's producer writes it (every key of its TypedDict).
SAMPLES: dict[StepKind, dict] = {
    StepKind.SUBMITTED: {"amount_cents": 123450, "currency": "EUR"},
    StepKind.ASSIGNED: {"due_at": "2026-12-01T10:00:00+00:00"},
    StepKind.DECIDED: {
        "action": "approve",
        "decision_id": "d-1",
        "on_behalf_of": "max",
        "override": True,
    },
    StepKind.REMINDER: {"due_at": "2026-12-01T10:00:00+00:00"},
    StepKind.ESCALATED: {"from": ["max"], "to": ["diana"], "escalations": 1},
    StepKind.REROUTED: {
        "from": ["max"],
        "to": ["diana"],
        "reason": "deactivated",
        "leaver": "max",
        "reroute_id": "r-1",
    },
    StepKind.NEEDS_APPROVER: {"cause": "nobody left who may decide this level"},
    StepKind.SIGNAL_IGNORED: {
        "reason": "OwnRequest",
        "code": "OwnRequest",
        "params": {},
        "action": "approve",
        "decision_id": "d-2",
    },
    StepKind.WITHDRAWN: {},
    StepKind.RESUBMITTED: {
        "old_amount_cents": 5000,
        "amount_cents": 4000,
        "old_title": "Train",
        "title": "Bus",
        "round": 2,
    },
    StepKind.DEADLINE_EXTENDED: {"seconds": 3600, "due_at": "2026-12-01T11:00:00+00:00"},
    StepKind.EXPIRED: {"escalations": 2},
    StepKind.COMPLETED: {"outcome": "approved"},
    StepKind.NOTIFICATION_FAILED: {
        "cause": "SMTPDataError: 550",
        "error_type": "PermanentMailError",
        "for_seq": 3,
        "kinds": ["assigned"],
    },
}


def summary(kind: StepKind) -> str:
    facts = step_words.StepFacts(kind, 1, "Emma", SAMPLES[kind], ["max"], FakeNames(), "EUR")
    return step_words.step_summary(facts)


def test_every_step_kind_has_words_and_a_detail_type():
    assert set(step_words.STEPS) == set(StepKind)
    assert set(details.DETAILS) == set(StepKind)
    assert set(SAMPLES) == set(StepKind)


@pytest.mark.parametrize("kind", list(StepKind))
def test_the_samples_carry_exactly_the_keys_of_their_detail_type(kind):
    hints = typing.get_type_hints(details.DETAILS[kind])
    common = set(typing.get_type_hints(details.StepCommon))
    optional = details.DETAILS[kind].__optional_keys__
    assert set(hints) - common - optional == set(SAMPLES[kind])


@pytest.mark.parametrize("kind", list(StepKind))
def test_every_kind_is_worded_in_english_and_german(kind):
    with MO.open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    words = step_words.STEPS[kind]
    with translation.override("en"):
        label, text = str(words.label), summary(kind)
    assert label and text and text != kind
    assert catalog.gettext(label) != label, f"no German for the label {label!r}"
    with translation.override("de"):
        german_label, german_text = str(words.label), summary(kind)
    assert german_label == catalog.gettext(label)
    assert german_text and german_text != text


def test_summaries_read_as_before():
    with translation.override("en"):
        assert summary(StepKind.SUBMITTED) == "Submitted by Emma for 1,234.50 EUR"
        assert summary(StepKind.DECIDED) == (
            "Emma approved at level 1 (on behalf of Max) (administrator override)"
        )
        assert summary(StepKind.REROUTED) == "Level 1 re-routed from Max to Diana: Max left"
        assert summary(StepKind.RESUBMITTED) == (
            "Resubmitted by Emma (round 2): “Train” 50.00 EUR → “Bus” 40.00 EUR"
        )
    with translation.override("de"):
        assert "1.234,50 EUR" in summary(StepKind.SUBMITTED)


def test_an_unknown_kind_is_its_code():
    facts = step_words.StepFacts("something_new", 0, "", {}, [], FakeNames())
    assert step_words.step_summary(facts) == "something_new"
    assert step_words.step_label("something_new") is None


def test_typed_details_are_plain_dicts():
    detail = details.SubmittedDetail(amount_cents=1, currency="EUR")
    assert type(detail) is dict and detail == {"amount_cents": 1, "currency": "EUR"}
    moved = details.EscalatedDetail({"from": ["a"], "to": ["b"], "escalations": 1})
    assert list(moved) == ["from", "to", "escalations"]
