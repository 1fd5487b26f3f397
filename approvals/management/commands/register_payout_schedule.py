"""Create or update the weekly payout run's Schedule (`approvals-payout-run`).

Stand-in until the schedule registry (register_schedules) lists
payouts.schedule.payout_schedule(); idempotent, so running both is harmless.
"""

import asyncio
import os
import sys

from django.core.management.base import BaseCommand

from approvals.temporal.client import connect
from payouts.schedule import register_payout_schedule


async def register() -> None:
    await register_payout_schedule(await connect())


class Command(BaseCommand):
    help = "Create or update the weekly payout run's Temporal Schedule (overlap SKIP)."

    def handle(self, *args, **options):
        asyncio.run(register())
        self.stdout.write("schedule approvals-payout-run registered")
        sys.stdout.flush()
        os._exit(0)
