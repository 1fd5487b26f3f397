"""Writes of people data: out-of-office delegation.

A delegation is active from `starts_on` to `ends_on` inclusive (local dates);
nothing runs when it ends: every reader asks `Delegation.objects.active()`
for today, so it ends by itself after its end date.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Delegation, User


@transaction.atomic
def delegation_create(*, user: User, delegate: User, starts_on: date, ends_on: date) -> Delegation:
    """Save a delegation; ValidationError if it overlaps one the user already gave."""
    # Lock the user's row so two concurrent saves cannot both pass the overlap check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    overlapping = Delegation.objects.filter(
        user=user, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).select_related("delegate")
    clash = overlapping.first()
    if clash is not None:
        raise ValidationError(
            _(
                "You already delegate to %(name)s from %(start)s to %(end)s; "
                "end that delegation first or choose other dates."
            )
            % {"name": clash.delegate.display_name, "start": clash.starts_on, "end": clash.ends_on}
        )
    item = Delegation(user=user, delegate=delegate, starts_on=starts_on, ends_on=ends_on)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def delegation_end(*, delegation: Delegation) -> Delegation | None:
    """End a delegation now: a future one is removed, a running one ends yesterday.

    Returns the delegation that remains on record, or None when it was removed.
    """
    today = timezone.localdate()
    if delegation.starts_on >= today:
        delegation.delete()
        return None
    delegation.ends_on = min(delegation.ends_on, today - timedelta(days=1))
    delegation.save(update_fields=["ends_on"])
    return delegation
