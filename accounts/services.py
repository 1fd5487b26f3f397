"""Writes of people data: delegation."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from .models import Delegation, User


@transaction.atomic
def delegation_create(*, user: User, delegate: User, starts_on: date, ends_on: date) -> Delegation:
    item = Delegation(user=user, delegate=delegate, starts_on=starts_on, ends_on=ends_on)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def delegation_end(*, delegation: Delegation) -> Delegation:
    today = timezone.localdate()
    delegation.ends_on = max(delegation.starts_on, today - timedelta(days=1))
    if delegation.starts_on > delegation.ends_on or delegation.starts_on >= today:
        delegation.delete()
    else:
        delegation.save(update_fields=["ends_on"])
    return delegation
