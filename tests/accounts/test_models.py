"""The org chart's invariants: no reports-to cycles, people are never deleted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Delegation, User
from approvals.models import ExpenseRequest

pytestmark = pytest.mark.django_db


def test_reporting_to_oneself_is_a_validation_error(demo_org):
    emma = demo_org["emma"]
    emma.reports_to = emma
    with pytest.raises(ValidationError) as info:
        emma.full_clean()
    assert "reports_to" in info.value.message_dict


def test_a_cycle_in_reports_to_is_a_validation_error(demo_org):
    victor = demo_org["victor"]
    victor.reports_to = demo_org["emma"]  # emma -> max -> diana -> victor -> emma
    with pytest.raises(ValidationError) as info:
        victor.full_clean()
    assert "cycle" in " ".join(info.value.message_dict["reports_to"])


def test_save_refuses_a_cycle_and_keeps_the_old_manager(demo_org):
    diana = demo_org["diana"]
    diana.reports_to = demo_org["max"]  # max reports to diana
    with pytest.raises(ValidationError):
        diana.save()
    assert User.objects.get(username="diana").reports_to.username == "victor"


def test_moving_someone_to_another_branch_is_allowed(demo_org):
    emma = demo_org["emma"]
    emma.reports_to = demo_org["maria"]
    emma.full_clean()
    emma.save()
    assert User.objects.get(username="emma").reports_to.username == "maria"


def make_request(user: User) -> ExpenseRequest:
    return ExpenseRequest.objects.create(
        requester=user, title="Train to Hamburg", amount=Decimal("89.90"), category="travel"
    )


def test_deleting_a_person_deactivates_and_keeps_their_rows(demo_org):
    emma = demo_org["emma"]
    expense = make_request(emma)
    today = timezone.localdate()
    delegation = Delegation.objects.create(
        user=emma,
        delegate=demo_org["finn"],
        starts_on=today - timedelta(days=2),
        ends_on=today + timedelta(days=3),
    )
    emma.delete()
    emma = User.objects.get(username="emma")
    assert emma.is_active is False
    assert ExpenseRequest.objects.get(pk=expense.pk).requester == emma
    # The delegation stays on record, ended (a leaver's delegations end: test_leavers.py).
    assert Delegation.objects.get(pk=delegation.pk).ends_on == today - timedelta(days=1)
    assert emma.reports_to == demo_org["max"]


def test_bulk_delete_deactivates_instead_of_deleting(demo_org):
    make_request(demo_org["finn"])
    count, _ = User.objects.filter(username__in=["finn", "emma"]).delete()
    assert count == 2
    assert User.objects.filter(username__in=["finn", "emma"], is_active=False).count() == 2
    assert ExpenseRequest.objects.filter(requester__username="finn").count() == 1


def test_deactivated_people_cannot_sign_in(client, demo_org):
    demo_org["emma"].delete()
    response = client.post("/accounts/login/", {"username": "emma", "password": "demo"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
