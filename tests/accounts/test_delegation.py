"""Out-of-office delegation: setting it, using it (inbox + decisions on behalf), its end.

Demo org: emma -> max -> diana -> victor, finn -> maria -> diana. Diana
delegates to maria; maria then sees and decides diana's pending levels.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts import services as people_services
from accounts.models import Delegation
from accounts.selectors import delegators_for
from approvals import services
from approvals.models import ApprovalStep
from tests.support.requests import state_of, submit, wait_pending_level
from tests.support.waiting import wait_for
from tests.support.web import (
    NOT_YOURS,
    assert_refused,
    client_for,
    inbox_ids,
    post_decision,
    wait_inbox,
)

pytestmark = pytest.mark.django_db(transaction=True)


def today():
    return timezone.localdate()


def delegate(user, to, starts=0, ends=3) -> Delegation:
    return people_services.delegation_create(
        user=user,
        delegate=to,
        starts_on=today() + timedelta(days=starts),
        ends_on=today() + timedelta(days=ends),
    )


# ------------------------------------------------------------------ setting it
def test_director_sets_a_delegate_for_a_date_range(demo_org):
    # The form offers people at her level or above (victor, her manager), never her reports.
    diana, victor = demo_org["diana"], demo_org["victor"]
    response = client_for(diana).post(
        "/accounts/delegation/",
        {"delegate": victor.pk, "starts_on": today(), "ends_on": today() + timedelta(days=5)},
        follow=True,
    )
    assert response.status_code == 200
    assert "Your delegation was saved." in response.content.decode()
    item = Delegation.objects.get(user=diana)
    assert (item.delegate, item.starts_on, item.ends_on) == (
        victor,
        today(),
        today() + timedelta(days=5),
    )
    assert delegators_for(delegate=victor) == ["diana"]
    page = client_for(victor).get("/accounts/delegation/").content.decode()
    assert 'data-testid="delegation-received" data-user="diana"' in page


@pytest.mark.parametrize(
    ("starts", "ends", "words"),
    [
        (0, -1, "The end date must not be before the start date."),
        (-1, 2, "The start date must not be in the past."),
        (0, 400, "A delegation lasts at most one year."),
    ],
)
def test_bad_dates_are_explained_and_nothing_saved(demo_org, starts, ends, words):
    response = client_for(demo_org["diana"]).post(
        "/accounts/delegation/",
        {
            "delegate": demo_org["victor"].pk,
            "starts_on": today() + timedelta(days=starts),
            "ends_on": today() + timedelta(days=ends),
        },
    )
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Delegation.objects.exists()


@pytest.mark.parametrize("who", ["diana", "nobody"])
def test_delegate_must_be_an_active_colleague(demo_org, who):
    demo_org["finn"].delete()  # deactivates
    target = {"diana": demo_org["diana"].pk, "nobody": demo_org["finn"].pk}[who]
    response = client_for(demo_org["diana"]).post(
        "/accounts/delegation/",
        {"delegate": target, "starts_on": today(), "ends_on": today()},
    )
    assert response.status_code == 400
    assert "Choose an active colleague other than yourself." in response.content.decode()
    assert not Delegation.objects.exists()


def test_overlapping_delegation_is_refused(demo_org):
    delegate(demo_org["diana"], demo_org["maria"], 0, 5)
    response = client_for(demo_org["diana"]).post(
        "/accounts/delegation/",
        {
            "delegate": demo_org["victor"].pk,
            "starts_on": today() + timedelta(days=3),
            "ends_on": today() + timedelta(days=9),
        },
    )
    assert response.status_code == 400
    assert "You already delegate to Maria Meier" in response.content.decode()
    assert Delegation.objects.count() == 1


def test_delegation_page_needs_a_login(db):
    response = Client().get("/accounts/delegation/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# ------------------------------------------------------------------ using it
def test_delegate_sees_and_decides_on_behalf_of_the_director(demo_org, worker):
    emma, max_, diana, maria = (demo_org[n] for n in ("emma", "max", "diana", "maria"))
    request = submit(emma, "4000.00")
    wait_pending_level(request, 1)
    services.decision_record(request=request, actor=max_, action="approve")
    wait_pending_level(request, 2)
    maria_client = client_for(maria)
    assert request.pk not in inbox_ids(maria_client)

    delegate(diana, maria)
    wait_inbox(maria_client, {request.pk}, exact=False)
    html = maria_client.get("/inbox/").content.decode()
    row = html[html.index(f'id="inbox-row-{request.pk}"') :].split('id="row-msg-')[0]
    assert 'data-testid="on-behalf-of">for diana<' in row

    response = post_decision(maria_client, request.pk, "approve")
    assert "Approved: the request is fully approved." in response.content.decode()
    state = state_of(request)
    assert state.status == "approved"
    last = state.decisions[-1]
    assert (last.actor, last.on_behalf_of, last.level) == ("maria", "diana", 2)

    def projected():
        step = ApprovalStep.objects.filter(request=request, level=2).first()
        return step if step and step.on_behalf_of == "diana" else None

    step = wait_for(projected, message="on behalf of never reached the projection")
    assert step.decided_by == "maria"
    detail = client_for(emma).get(f"/requests/{request.pk}/").content.decode()
    assert "on behalf of Diana Dietrich" in detail  # display names in the chain


def test_delegate_never_decides_own_request_through_the_delegation(demo_org, worker):
    """Maria's own request waits on diana at level 2; maria stands in for diana."""
    finn, maria, diana = demo_org["finn"], demo_org["maria"], demo_org["diana"]
    own = submit(maria, "300.00", title="Maria's own")  # one level: diana
    wait_pending_level(own, 1)
    other = submit(finn, "4000.00", title="Finn's")
    wait_pending_level(other, 1)
    services.decision_record(request=other, actor=maria, action="approve")
    wait_pending_level(other, 2)
    delegate(diana, maria)
    maria_client = client_for(maria)
    ids = wait_inbox(maria_client, {other.pk}, exact=False)
    assert own.pk not in ids
    assert_refused(
        post_decision(maria_client, own.pk, "approve"), "You cannot decide on your own request."
    )
    assert state_of(own).status == "pending" and state_of(own).decisions == []


# ------------------------------------------------------------------ its end
def test_delegation_is_active_through_its_last_day_and_not_after(demo_org):
    item = delegate(demo_org["diana"], demo_org["maria"], 0, 2)
    assert Delegation.objects.active(on=item.ends_on).filter(pk=item.pk).exists()
    assert not Delegation.objects.active(on=item.ends_on + timedelta(days=1)).exists()
    assert not Delegation.objects.active(on=item.starts_on - timedelta(days=1)).exists()


def test_expired_delegation_ends_by_itself(demo_org, worker):
    emma, max_, diana, maria = (demo_org[n] for n in ("emma", "max", "diana", "maria"))
    request = submit(emma, "4000.00")
    wait_pending_level(request, 1)
    services.decision_record(request=request, actor=max_, action="approve")
    wait_pending_level(request, 2)
    item = delegate(diana, maria)
    maria_client = client_for(maria)
    wait_inbox(maria_client, {request.pk}, exact=False)

    # Time passes: the last day was yesterday. Nothing ran; the reads see it ended.
    Delegation.objects.filter(pk=item.pk).update(
        starts_on=today() - timedelta(days=5), ends_on=today() - timedelta(days=1)
    )
    assert delegators_for(delegate=maria) == []
    assert request.pk not in inbox_ids(maria_client)
    assert_refused(post_decision(maria_client, request.pk, "approve"), NOT_YOURS)
    state = state_of(request)
    assert state.current_level == 2 and len(state.decisions) == 1


def test_ending_a_delegation_now(demo_org, worker):
    diana, maria = demo_org["diana"], demo_org["maria"]
    running = Delegation.objects.create(
        user=diana,
        delegate=maria,
        starts_on=today() - timedelta(days=2),
        ends_on=today() + timedelta(days=2),
    )
    assert delegators_for(delegate=maria) == ["diana"]
    # Someone else's delegation id answers like a missing one.
    assert client_for(maria).post(f"/accounts/delegation/{running.pk}/end/").status_code == 404
    response = client_for(diana).post(f"/accounts/delegation/{running.pk}/end/", follow=True)
    assert "The delegation has ended." in response.content.decode()
    running.refresh_from_db()
    assert running.ends_on == today() - timedelta(days=1)  # kept on record, no longer active
    assert delegators_for(delegate=maria) == []

    future = delegate(diana, maria, 3, 4)
    client_for(diana).post(f"/accounts/delegation/{future.pk}/end/")
    assert not Delegation.objects.filter(pk=future.pk).exists()


# ------------------------------------------------------------------ who may act for you
def options(client) -> set[str]:
    import re

    page = client.get("/accounts/delegation/").content.decode()
    start = page.index('name="delegate"')
    select = page[start : page.index("</select>", start)]
    return set(re.findall(r'<option value="(\d+)"', select))


def test_the_form_offers_only_people_who_may_act_for_you(demo_org):
    """max: his manager diana and her manager victor, maria (a manager too, with the same
    manager), the administrators; never emma, who reports to him, nor himself."""
    offered = options(client_for(demo_org["max"]))
    pk = {name: str(demo_org[name].pk) for name in demo_org if hasattr(demo_org[name], "pk")}
    assert {pk["diana"], pk["victor"], pk["maria"], pk["admin"]} <= offered
    assert pk["emma"] not in offered and pk["max"] not in offered and pk["finn"] not in offered
    # diana: never maria or max (her reports), nor emma and finn below them.
    offered = options(client_for(demo_org["diana"]))
    assert not {pk["maria"], pk["max"], pk["emma"], pk["finn"]} & offered
    assert pk["victor"] in offered
    # A forged POST for a report is refused at the field; nothing saved.
    response = client_for(demo_org["max"]).post(
        "/accounts/delegation/",
        {"delegate": demo_org["emma"].pk, "starts_on": today(), "ends_on": today()},
    )
    assert response.status_code == 400
    assert 'data-testid="error-delegate"' in response.content.decode()
    assert not Delegation.objects.exists()


def test_the_delegate_is_told_in_their_language(demo_org, settings):
    from django.core import mail
    from django.utils import translation

    from accounts.models import User

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    User.objects.filter(username="diana").update(language="de")
    response = client_for(demo_org["max"]).post(
        "/accounts/delegation/",
        {"delegate": demo_org["diana"].pk, "starts_on": today(), "ends_on": today()},
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["diana@example.com"]
    with translation.override("de"):
        expected = translation.gettext("%(name)s named you as their delegate") % {
            "name": "Max Müller"
        }
    assert message.subject == expected
    assert "/inbox/" in message.body
    assert today().strftime("%d.%m.%Y") in message.body  # her language's date style
