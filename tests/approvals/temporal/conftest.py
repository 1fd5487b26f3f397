"""Fixtures for the ExpenseApproval workflow tests.

Everything runs on the real dev server with the real worker and activities
(see tests/conftest.py); only test_time_skipping.py replaces activities, as it
is about the workflow alone. Helpers: tests/support/requests.py and
tests/support/visibility.py.
"""

from __future__ import annotations

import pytest

from accounts.models import Role, User


@pytest.fixture
def fast_timers(settings):
    """A 3 s level deadline with a reminder after 1 s (read by starter.policy_snapshot)."""
    settings.APPROVAL_SLA_SECONDS = 3
    settings.APPROVAL_REMINDER_SECONDS = 1
    return settings


@pytest.fixture
def admin2(demo_org):
    user = User.objects.create_user(
        "admin2", "admin2@example.com", "demo", first_name="Alex", last_name="Admin"
    )
    user.is_superuser = user.is_staff = True
    user.role = Role.ADMIN
    user.save()
    return user
