"""Leavers: every way of deactivating a person goes through `user_deactivate`,
which ends the delegations from and to them and, after commit, announces the
leaver so the levels waiting on them are re-routed (tests/approvals/test_leavers.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Delegation, User
from accounts.services import user_deactivate
from accounts.signals import person_deactivated
from tests.accounts.test_admin import change_url, form_data

pytestmark = pytest.mark.django_db
ACCOUNTS = Path(__file__).resolve().parents[2] / "accounts"


@pytest.fixture
def announced():
    """Who was announced as a leaver (the real signal, a recording receiver)."""
    calls: list[dict] = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    person_deactivated.connect(receiver, dispatch_uid="test-recorder")
    yield calls
    person_deactivated.disconnect(dispatch_uid="test-recorder")


@pytest.fixture
def delegations(demo_org):
    """Around max: one he gave (running), one he received, one in the future, one past;
    and one between others that must stay."""
    today = timezone.localdate()
    make = Delegation.objects.create
    return {
        "from_max": make(
            user=demo_org["max"],
            delegate=demo_org["diana"],
            starts_on=today - timedelta(days=3),
            ends_on=today + timedelta(days=3),
        ),
        "to_max": make(
            user=demo_org["maria"],
            delegate=demo_org["max"],
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=5),
        ),
        "future": make(
            user=demo_org["max"],
            delegate=demo_org["maria"],
            starts_on=today + timedelta(days=10),
            ends_on=today + timedelta(days=12),
        ),
        "past": make(
            user=demo_org["max"],
            delegate=demo_org["diana"],
            starts_on=today - timedelta(days=30),
            ends_on=today - timedelta(days=20),
        ),
        "others": make(
            user=demo_org["finn"],
            delegate=demo_org["maria"],
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=1),
        ),
    }


def assert_max_left(delegations, announced) -> None:
    today = timezone.localdate()
    assert User.objects.get(username="max").is_active is False
    # Running delegations from and to him end yesterday; a future one is removed.
    for key in ("from_max", "to_max"):
        item = Delegation.objects.get(pk=delegations[key].pk)
        assert item.ends_on == today - timedelta(days=1), key
    assert not Delegation.objects.filter(pk=delegations["future"].pk).exists()
    assert not Delegation.objects.active().filter(user__username="max").exists()
    assert not Delegation.objects.filter(delegate__username="max", ends_on__gte=today).exists()
    # Past records and other people's delegations are untouched.
    past = Delegation.objects.get(pk=delegations["past"].pk)
    assert past.ends_on == delegations["past"].ends_on
    assert Delegation.objects.active().filter(pk=delegations["others"].pk).exists()
    # Announced once, after commit, for the re-route.
    assert [call["username"] for call in announced] == ["max"]


def test_the_service_deactivates_ends_delegations_and_announces_after_commit(
    demo_org, delegations, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ended = user_deactivate(user=demo_org["max"], by=demo_org["admin"])
        assert announced == []  # nothing before the commit
    assert ended == 3
    assert_max_left(delegations, announced)
    assert announced[0]["by"] == demo_org["admin"]


def test_the_admin_action_uses_the_service(
    client, demo_org, delegations, announced, django_capture_on_commit_callbacks
):
    client.force_login(demo_org["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/user/",
            {"action": "deactivate", "_selected_action": [demo_org["max"].pk]},
        )
    assert response.status_code == 302
    assert_max_left(delegations, announced)
    assert announced[0]["by"] == demo_org["admin"]


def test_the_admin_action_on_many_people_deactivates_each(
    client, demo_org, delegations, announced, django_capture_on_commit_callbacks
):
    client.force_login(demo_org["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/accounts/user/",
            {
                "action": "deactivate",
                "_selected_action": [demo_org["max"].pk, demo_org["finn"].pk],
            },
        )
    assert sorted(call["username"] for call in announced) == ["finn", "max"]
    assert not Delegation.objects.active().filter(pk=delegations["others"].pk).exists()
    assert User.objects.filter(username__in=["max", "finn"], is_active=True).count() == 0


def test_unticking_active_in_the_admin_form_uses_the_service(
    client, demo_org, delegations, announced, django_capture_on_commit_callbacks
):
    client.force_login(demo_org["admin"])
    data = form_data(client.get(change_url(demo_org["max"])))
    data.pop("is_active", None)  # an unticked checkbox is not sent
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(demo_org["max"]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_max_left(delegations, announced)
    assert announced[0]["by"] == demo_org["admin"]


def test_saving_with_is_active_off_uses_the_service(
    demo_org, delegations, announced, django_capture_on_commit_callbacks
):
    max_ = demo_org["max"]
    max_.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        max_.save()
    assert_max_left(delegations, announced)


def test_delete_and_bulk_delete_use_the_service(
    demo_org, delegations, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        demo_org["max"].delete()
    assert_max_left(delegations, announced)
    with django_capture_on_commit_callbacks(execute=True):
        count, _ = User.objects.filter(username__in=["finn", "maria"]).delete()
    assert count == 2
    assert [call["username"] for call in announced][1:] == ["finn", "maria"]
    assert not Delegation.objects.active().filter(pk=delegations["others"].pk).exists()


def test_saving_an_inactive_person_again_announces_nothing_new(
    demo_org, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        demo_org["max"].delete()
        max_ = User.objects.get(username="max")
        max_.title = "Former manager"
        max_.save()
    assert [call["username"] for call in announced] == ["max"]


def test_nothing_in_accounts_deactivates_by_queryset_update():
    for path in ACCOUNTS.rglob("*.py"):
        text = path.read_text()
        assert "update(is_active=False)" not in text, path
