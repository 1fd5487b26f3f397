"""The OCR worker on a fresh task queue (the real ReadReceipt workflow and activities
against the test database), and receipts drawn with Pillow."""

from __future__ import annotations

import uuid

import pytest

from approvals.ocr import samples
from tests.support.servers import WorkerThread


@pytest.fixture
def ocr_queue(settings, temporal_server):
    queue = f"ocr-test-{uuid.uuid4().hex[:10]}"
    settings.TEMPORAL_OCR_TASK_QUEUE = queue
    return queue


@pytest.fixture
def ocr_worker(ocr_queue, temporal_server):
    thread = WorkerThread(ocr_queue, builder="build_ocr_worker").start()
    yield thread
    thread.stop()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def drawn():
    """Eight receipts (German and English) and their PNG bytes."""
    return [(s, samples.png_bytes(samples.render(s))) for s in samples.samples(8, seed=7)]
