"""ReadReceipt: read one uploaded receipt on the `ocr` task queue.

No Django and nothing that imports it (the sandbox re-imports workflow code): only
temporalio and the standard library. One activity reads and stores; if it fails for
good (an unreadable file, or every retry used), a second marks the upload unread so
the form stops waiting and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

WORKFLOW_TYPE = "ReadReceipt"
# Errors no retry can mend (the activity raises them as non-retryable).
UNREADABLE = "UnreadableReceipt"
# A reading that does not finish within this is abandoned (the form is filled by hand).
EXECUTION_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class ReadReceiptInput:
    upload_id: int
    language: str = ""


@dataclass(frozen=True)
class ReadReceiptResult:
    status: str  # "read" / "failed"
    fields: tuple[str, ...] = ()


def workflow_id(token: str) -> str:
    return f"receipt-read-{token}"


@workflow.defn(name=WORKFLOW_TYPE)
class ReadReceiptWorkflow:
    @workflow.run
    async def run(self, params: ReadReceiptInput) -> ReadReceiptResult:
        try:
            fields = await workflow.execute_activity(
                "read_receipt",
                params,
                result_type=list,
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=timedelta(minutes=3),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    maximum_interval=timedelta(seconds=10),
                    maximum_attempts=3,
                    non_retryable_error_types=[UNREADABLE],
                ),
            )
        except ActivityError as exc:
            reason = str(exc.cause or exc)[:300]
            await workflow.execute_activity(
                "mark_receipt_unread",
                args=[params.upload_id, reason],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
            )
            return ReadReceiptResult(status="failed")
        return ReadReceiptResult(status="read", fields=tuple(fields))
