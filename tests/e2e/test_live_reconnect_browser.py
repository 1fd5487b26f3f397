"""Issue 28, "sockets reconnect": the web process an approver's inbox is connected to
goes away (a deploy, a crash) and another takes its port; the page's websocket
reconnects by itself and the next pushed change arrives without a reload.

Chromium against the real ASGI app (uvicorn) and worker, real Temporal and PostgreSQL.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from approvals.models import ExpenseRequest
from tests.support.live import same_document, signed_in
from tests.support.requests import submit, wait_pending_level
from tests.support.servers import LiveApp
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_inbox_socket_reconnects_to_the_next_web_process(
    transactional_db, demo_org, task_queue, temporal_server, new_page
):
    first = LiveApp(task_queue).start()
    second = None
    try:
        page = signed_in(new_page, first, "max", "/inbox/")
        first.stop()  # the web process goes away: its sockets close
        wait_for(lambda: page.evaluate("document.body.dataset.wsOpen") == "0", timeout=30)

        second = LiveApp(task_queue, port=first.port).start()
        page.wait_for_selector("body[data-ws-open='1']", state="attached", timeout=30_000)

        request = submit(demo_org["emma"], "120.00", title="After the restart")
        wait_pending_level(request, 1)
        wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
        expect(page.locator(f"#inbox-row-{request.pk}")).to_be_visible(timeout=20_000)
        assert same_document(page)  # pushed into the open page, not a reload
    finally:
        if second is not None:
            second.stop()
        first.stop()
