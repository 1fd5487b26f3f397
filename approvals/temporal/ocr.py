"""Starting a receipt's reading (ReadReceipt on the OCR task queue) from the web tier."""

from __future__ import annotations

import contextlib

from django.conf import settings
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from ..ocr.workflow import EXECUTION_TIMEOUT, WORKFLOW_TYPE, ReadReceiptInput, workflow_id
from .client import TemporalUnavailable, call


async def _start(client: Client, token: str, inp: ReadReceiptInput) -> None:
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            WORKFLOW_TYPE,
            inp,
            id=workflow_id(token),
            task_queue=settings.TEMPORAL_OCR_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            execution_timeout=EXECUTION_TIMEOUT,
        )


def receipt_read_start(*, upload_id: int, token: str, language: str) -> None:
    """Start reading the upload (idempotent: one workflow per token). Raises
    TemporalUnavailable when Temporal does not answer within the call timeout."""
    inp = ReadReceiptInput(upload_id=upload_id, language=language)
    try:
        call(lambda client: _start(client, token, inp))
    except RPCError as exc:
        raise TemporalUnavailable(str(exc)) from exc
