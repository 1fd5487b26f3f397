import asyncio
import os
import signal
import sys

from django.core.management.base import BaseCommand

from approvals.services.leavers import sweep_leavers
from approvals.worker import worker


class Command(BaseCommand):
    help = (
        "Run the Temporal worker (workflows, activities, reconciler) until SIGINT/SIGTERM; "
        "it also reads receipts on the OCR queue unless OCR_WORKER=0 or --no-ocr."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--ocr-only",
            action="store_true",
            help="Only read receipts (the OCR task queue): a process of its own.",
        )
        group.add_argument(
            "--no-ocr", action="store_true", help="Leave the OCR task queue to another process."
        )

    def handle(self, *args, ocr_only=False, no_ocr=False, **options):
        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if ocr_only:
                await worker.run(stop, reconcile=False, approvals=False, ocr=True)
            else:
                await worker.run(stop, passes=(sweep_leavers,), ocr=False if no_ocr else None)

        asyncio.run(main())
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # temporalio's runtime can crash at interpreter exit
