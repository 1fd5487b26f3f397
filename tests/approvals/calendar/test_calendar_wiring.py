"""The Django side of the calendar in the workflow (issue 31): what the start pins (a
working-time SLA and the organisation's calendar, unless APPROVAL_SLA_SECONDS counts
plain time) and what the lookups answer (the calendars of people with their own)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.testing import ActivityEnvironment

from accounts.models import User
from approvals import audit_chain, services
from approvals.temporal.starter import workflow_input
from approvals.worker.activities import record_transition, resolve_managers, resolve_route
from approvals.workflow.contract import (
    ApprovalState,
    ManagersRequest,
    RouteRequest,
    StepEvent,
    Transition,
)

pytestmark = pytest.mark.django_db


def submitted(user):
    return services.expense_submit(
        requester=user, title="Trip", amount=Decimal("300.00"), currency="EUR", category="travel"
    )


def test_a_request_in_working_time_pins_16_working_hours_and_the_calendar(demo_org, settings):
    settings.APPROVAL_SLA_PLAIN_TIME = False
    settings.HOLIDAY_SUBDIVISION = "BE"
    inp = workflow_input(submitted(demo_org["emma"]))
    assert (inp.policy.sla_working_seconds, inp.policy.reminder_working_seconds) == (
        16 * 3600,
        8 * 3600,
    )
    assert inp.calendar is not None and inp.calendar.subdivision == "BE"
    assert f"{inp.calendar.first_year}-12-25" in inp.calendar.holidays  # holidays pinned too
    assert inp.calendar.time_zone == settings.TIME_ZONE


def test_plain_time_pins_no_calendar(demo_org, settings):
    settings.APPROVAL_SLA_PLAIN_TIME = True  # APPROVAL_SLA_SECONDS set: tests, demos
    inp = workflow_input(submitted(demo_org["emma"]))
    assert (inp.policy.sla_working_seconds, inp.calendar) == (0, None)


@pytest.mark.django_db(transaction=True)  # the activities close old connections
def test_the_lookups_bring_the_calendars_of_people_with_their_own(demo_org):
    User.objects.filter(username="diana").update(holiday_subdivision="BY")
    User.objects.filter(username="max").update(time_zone="Europe/London")
    env = ActivityEnvironment()
    route = env.run(resolve_route, RouteRequest(1, "emma", 0, calendars=True))
    assert route.ladder[:2] == ["max", "diana"]
    assert set(route.calendars) == {"max", "diana"}  # everyone else: the default
    assert route.calendars["diana"].subdivision == "BY"
    assert route.calendars["max"].time_zone == "Europe/London"
    assert "2027-01-06" in route.calendars["diana"].holidays  # Epiphany, Bavaria only
    managers = env.run(resolve_managers, ManagersRequest(1, ["max"], calendars=True))
    assert set(managers.calendars) == {"diana"} & set(managers.chains["max"])
    # A run in plain time asks for none (no query, no holidays computed).
    assert env.run(resolve_route, RouteRequest(1, "emma", 0)).calendars == {}


@pytest.mark.django_db(transaction=True)
def test_record_transition_answers_the_audit_head(demo_org):
    request = submitted(demo_org["emma"])
    state = ApprovalState(
        request_id=request.pk,
        requester="emma",
        requester_display="Emma",
        title="Trip",
        amount_cents=30000,
        currency="EUR",
        submitted_at=request.created_at.isoformat(),
        status="pending",
        current_level=0,
        levels=[],
        seq=1,
    )
    event = StepEvent(kind="submitted", actor="emma", detail={"seq": 1, "at": state.submitted_at})
    head = ActivityEnvironment().run(record_transition, Transition(state=state, events=[event]))
    assert head == audit_chain.audit_head(request.pk) and len(head) == 64
