import asyncio
import os
import signal
import sys

from django.core.management.base import BaseCommand

from approvals.services.leavers import sweep_leavers
from approvals.worker import worker


class Command(BaseCommand):
    help = "Run the Temporal worker (workflows, activities, reconciler) until SIGINT/SIGTERM."

    def handle(self, *args, **options):
        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await worker.run(stop, passes=(sweep_leavers,))

        asyncio.run(main())
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # temporalio's runtime can crash at interpreter exit
