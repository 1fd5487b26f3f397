"""ReadReceipt on the real dev server and the OCR worker's own task queue: a receipt is
read and stored on its upload; an unreadable one ends `failed` after one attempt (no
retries); nothing runs on the approval queue."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from temporalio.client import WorkflowExecutionStatus

from approvals.ocr.models import ReadStatus, ReceiptUpload
from approvals.ocr.workflow import workflow_id
from approvals.services.receipts import receipt_upload_create
from approvals.temporal.client import call
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _done(row: ReceiptUpload) -> ReceiptUpload:
    def finished():
        fresh = ReceiptUpload.objects.get(pk=row.pk)
        return fresh if fresh.status != ReadStatus.PENDING else None

    return wait_for(finished, timeout=90)


def _history(token, *, finished: bool = True):
    async def fetch(client):
        handle = client.get_workflow_handle(workflow_id(str(token)))
        if finished:
            await handle.result()  # the row is written before the workflow completes
        description = await handle.describe()
        return description, await handle.fetch_history()

    return call(fetch, timeout=60)


def test_a_receipt_is_read_on_the_ocr_queue(demo_org, ocr_worker, ocr_queue, drawn):
    sample, data = drawn[3]
    row = receipt_upload_create(
        user=demo_org["emma"],
        upload=SimpleUploadedFile("taxi.png", data, content_type="image/png"),
        language="en",
    )
    row = _done(row)
    assert row.status == ReadStatus.READ
    assert row.result["amount"] == f"{sample.amount:f}"
    assert row.result["date"] == sample.date.isoformat()
    assert row.result["merchant"] == sample.merchant
    assert row.seconds is not None and row.seconds > 0
    description, history = _history(row.token)
    assert description.status == WorkflowExecutionStatus.COMPLETED
    assert description.task_queue == ocr_queue
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert [(a.activity_type.name, a.task_queue.name) for a in scheduled] == [
        ("read_receipt", ocr_queue)
    ]


def test_an_unreadable_receipt_fails_once_and_says_so(demo_org, ocr_worker):
    broken = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 64  # passes the sniff
    row = receipt_upload_create(
        user=demo_org["emma"],
        upload=SimpleUploadedFile("photo.png", broken, content_type="image/png"),
        language="de",
    )
    row = _done(row)
    assert row.status == ReadStatus.FAILED
    assert "unreadable" in row.error
    description, history = _history(row.token)
    assert description.status == WorkflowExecutionStatus.COMPLETED
    started = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert started == [1, 1]  # read_receipt once (non-retryable), mark_receipt_unread once


def test_without_a_worker_on_the_queue_the_reading_waits_and_approvals_are_not_involved(
    demo_org, ocr_queue, worker, drawn
):
    """The approval worker does not poll the OCR queue: a receipt waits for the OCR
    worker (the form fills in by hand meanwhile)."""
    _, data = drawn[0]
    row = receipt_upload_create(
        user=demo_org["emma"],
        upload=SimpleUploadedFile("r.png", data, content_type="image/png"),
        language="en",
    )
    description, _history_ = _history(row.token, finished=False)
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert ReceiptUpload.objects.get(pk=row.pk).status == ReadStatus.PENDING
