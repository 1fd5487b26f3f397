"""Retry policies and timeouts the workflows give their activities (defined once).

A retry policy is part of the ScheduleActivityTask command's attributes, not its
type: changing one changes no replayed command, but only runs scheduling after
the change get it (docs/versioning.md).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Database work: retried until it succeeds (listed on /ops/ from the 3rd attempt).
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# Short attempt timeouts: an activity lost with a killed worker is retried
# after this long, so keep it near what a slow database write can take.
DB_TIMEOUT = timedelta(seconds=10)
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=8,  # about ten minutes of an SMTP outage, then recorded as failed
)
MAIL_TIMEOUT = timedelta(seconds=30)
