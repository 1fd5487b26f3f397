"""`manage.py register_schedules`: create or update the project's Temporal Schedules.

Idempotent (approvals/temporal/schedules.py). `make run` calls it once its dev server
is up, the worker's container entrypoint before it starts the worker. Temporal may still
be starting: it tries to connect for `--wait` seconds, then fails with the cause.
"""

import asyncio
import os
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from approvals.temporal.client import connect
from approvals.temporal.schedules import register_schedules


async def _register(wait: float) -> dict[str, str]:
    deadline = time.monotonic() + wait
    while True:
        try:
            client = await connect()
            break
        except Exception as exc:  # the server may still be starting
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"Temporal is not reachable at {settings.TEMPORAL_ADDRESS}: {exc}"
                ) from exc
            await asyncio.sleep(1)
    return await register_schedules(client)


class Command(BaseCommand):
    help = "Create the Temporal Schedules (digest, overdue report, ...) or update them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait", type=float, default=60, help="seconds to keep trying to reach Temporal"
        )

    def handle(self, *args, wait: float, **options):
        done = asyncio.run(_register(wait))
        for schedule_id, what in done.items():
            self.stdout.write(f"schedule {schedule_id}: {what}")
        # As register_search_attributes: the SDK's runtime threads can abort the
        # interpreter's shutdown (PyGILState_Release); the work is done, leave now.
        self.stdout.flush()
        sys.stdout.flush()
        os._exit(0)
