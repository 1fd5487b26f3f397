"""The inbox asks the server to sort by DecisionDueAt, and falls back (once) when refused."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from approvals.selectors import inbox as inbox_selectors
from approvals.services import deadline_extend
from tests.support.requests import submit, wait_pending_level
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_detection():
    inbox_selectors.reset_server_sorts()
    yield
    inbox_selectors.reset_server_sorts()


def row_ids(client: Client) -> list[int]:
    html = client.get("/inbox/").content.decode()
    return [int(x) for x in re.findall(r'data-testid="inbox-row" data-request-id="(\d+)"', html)]


def test_the_dev_server_refuses_order_by_once_and_pages_are_sorted_here(
    demo_org, worker, fresh_detection, caplog
):
    caplog.set_level(logging.INFO, logger="approvals.selectors.inbox")
    first = submit(demo_org["emma"], "100.00", title="Later")
    second = submit(demo_org["emma"], "110.00", title="Sooner")
    wait_pending_level(first, 1)
    wait_pending_level(second, 1)
    # The older request's deadline moves out: the newer one is due first.
    deadline_extend(request=first, actor=demo_org["admin"], seconds=7 * 86400, reason="later")
    boss = Client()
    boss.force_login(demo_org["max"])
    # Workflows of earlier tests (same dev server) may wait on max too: look at ours.
    ours = {first.pk, second.pk}
    wait_for(
        lambda: [pk for pk in row_ids(boss) if pk in ours] == [second.pk, first.pk],
        message="not sorted by deadline",
    )
    assert inbox_selectors.server_sorts() is False
    refusals = [r for r in caplog.records if "refuses ORDER BY" in r.getMessage()]
    assert len(refusals) == 1  # detected once per process, not on every page
