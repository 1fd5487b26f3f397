"""The decide view and form with line rejections (the form contract with the decide
controls: `reject_line` checkboxes with the line's number, `line_reason_<n>` texts)."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.utils import translation

from approvals.forms.inbox import DecisionForm
from approvals.models import LineStatus
from tests.support.reports import line_rows, submit_report
from tests.support.requests import state_of, wait_pending_level
from tests.support.waiting import wait_for
from tests.support.web import assert_refused, client_for, post_decision


def form(**data) -> DecisionForm:
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    return DecisionForm(query)


def test_the_form_reads_ticked_lines_and_their_reasons():
    f = form(
        action="approve",
        reject_line=["4", "2"],
        line_reason_2="Too dear",
        line_reason_4="No guest list",
        line_reason_3="not ticked: left aside",
    )
    assert f.is_valid(), f.errors
    assert f.rejected_lines == {2: "Too dear", 4: "No guest list"}


def test_a_step_up_carries_the_ticked_lines_as_one_value():
    f = form(action="approve", reject_line="1,3", line_reason_1="a", line_reason_3="b")
    assert f.is_valid() and f.rejected_lines == {1: "a", 3: "b"}


def test_a_missing_reason_is_an_error_at_its_line():
    with translation.override("en"):
        f = form(action="approve", reject_line=["2", "4"], line_reason_2="Too dear")
        assert not f.is_valid()
        assert f.line_errors() == {4: ["Give a reason for rejecting line 4."]}
    with translation.override("de"):
        f = form(action="approve", reject_line="4", line_reason_4="  ")
        assert not f.is_valid()
        german = "Geben Sie einen Grund für die Ablehnung von Position 4 an."
        assert f.line_errors() == {4: [german]}


def test_a_whole_report_decision_leaves_ticked_lines_aside():
    f = form(action="reject", comment="Not this trip", reject_line="2")
    assert f.is_valid(), f.errors
    assert f.rejected_lines == {}


def test_a_line_that_is_no_number_is_refused():
    with translation.override("en"):
        f = form(action="approve", reject_line="two", line_reason_2="x")
        assert not f.is_valid()
        assert f.non_field_errors() == ["two is not a line of this report."]


@pytest.mark.django_db(transaction=True)
def test_approving_with_a_line_rejected_from_the_page(demo_org, worker):
    request = submit_report(demo_org["emma"])
    wait_pending_level(request, 1)
    max_ = client_for(demo_org["max"])
    # A reason missing: refused at the row, nothing sent to the workflow.
    response = post_decision(max_, request.pk, "approve", reject_line="4")
    assert_refused(response, "Give a reason for rejecting line 4.")
    assert response.context["line_errors"] == {4: ["Give a reason for rejecting line 4."]}
    assert state_of(request).decisions == []
    # A line of another report's length: the workflow's words.
    response = post_decision(max_, request.pk, "approve", reject_line="9", line_reason_9="x")
    assert_refused(response, "This report has no line 9.")
    response = post_decision(
        max_, request.pk, "approve", reject_line="4", line_reason_4="Guest list missing"
    )
    html = response.content.decode()
    assert 'data-testid="decision-done"' in html
    assert "1 line rejected, the rest approved. Now waiting for diana." in html
    state = state_of(request)
    assert [x.status for x in state.lines] == ["open", "open", "open", "rejected"]
    wait_for(lambda: line_rows(request)[4][0] == LineStatus.REJECTED, message="not projected")
    assert line_rows(request)[4] == ("rejected", 1, "max", "Guest list missing")
