"""Time travel on /audit/<pk>/?as_of=<event id>: a two-level request decided by max, read
back as it stood before and after his decision, rebuilt from the workflow's history on
the real dev server (worker, PostgreSQL), in English and German; one steps through it.
"""

from __future__ import annotations

import re

import pytest

from approvals.temporal.history import fetch_history
from tests.support.requests import decide, submit, wait_pending_level, wait_state
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)
ENTRY = re.compile(r'data-testid="timeline-entry" data-kind="([^"]+)"[^>]*data-event-id="(\d+)"')


def panel(page: str) -> str:
    start = page.index('data-testid="as-of"')
    return page[start : page.index("</section>", start)]


def decision_event(request) -> int:
    """The history event of max's decision Update (accepted)."""
    events = fetch_history(request.pk)
    return next(
        e.event_id
        for e in events
        if e.type == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED" and e.data.get("name") == "decide"
    )


def test_as_of_before_and_after_a_decision_shows_the_difference(demo_org, worker):
    request = submit(demo_org["emma"], "2500.00", title="Trade fair stand")  # two levels
    wait_pending_level(request, 1)
    decide(request, demo_org["max"], "approve", comment="Good value")
    wait_pending_level(request, 2)
    wait_state(request, lambda s: s.seq >= 3)
    decided = decision_event(request)
    admin = client_for(demo_org["admin"])

    before = panel(admin.get(f"/audit/{request.pk}/?as_of={decided - 1}").content.decode())
    assert 'data-status="pending"' in before
    assert 'data-level="1" data-status="pending"' in before
    assert "Max" in before.split('data-testid="as-of-waiting">')[1].split("</dd>")[0]
    assert "Good value" not in before

    page = admin.get(f"/audit/{request.pk}/?as_of={decided + 5}").content.decode()
    after = panel(page)
    assert 'data-level="1" data-status="approved"' in after
    assert 'data-level="2" data-status="pending"' in after
    assert "Good value" in after and "decided by Max" in after
    waiting = after.split('data-testid="as-of-waiting">')[1].split("</dd>")[0]
    assert "Diana" in waiting and "Max" not in waiting

    # Every timeline event links to its moment, and one steps from one to the next.
    linked = [int(i) for _kind, i in ENTRY.findall(page)]
    assert linked and all(f"?as_of={i}&amp;" in page for i in linked)
    first = min(linked)
    start = panel(admin.get(f"/audit/{request.pk}/?as_of={first}").content.decode())
    assert 'data-testid="as-of-previous"' not in start
    following = re.search(r'href="\?as_of=(\d+)[^"]*" rel="next"', start)
    assert following and int(following.group(1)) == sorted(set(linked))[1]
    assert 'rel="prev"' in panel(
        admin.get(f"/audit/{request.pk}/?as_of={following.group(1)}").content.decode()
    )

    # German: the same moments in the reader's language.
    de_before = panel(
        admin.get(
            f"/audit/{request.pk}/?as_of={decided - 1}", HTTP_ACCEPT_LANGUAGE="de"
        ).content.decode()
    )
    de_after = panel(
        admin.get(
            f"/audit/{request.pk}/?as_of={decided + 5}", HTTP_ACCEPT_LANGUAGE="de"
        ).content.decode()
    )
    assert "So stand es direkt nach Ereignis" in de_before
    assert "wartet auf Entscheidung" in de_before and "genehmigt" not in de_before
    assert "genehmigt" in de_after and "entschieden von Max" in de_after


def test_a_bad_or_unknown_event_is_said_not_a_500(demo_org, worker):
    request = submit(demo_org["emma"], "120.00")
    wait_pending_level(request, 1)
    admin = client_for(demo_org["admin"])
    for value, words in (("abc", "is not an event number"), ("99999", "has no event 99999")):
        response = admin.get(f"/audit/{request.pk}/?as_of={value}")
        assert response.status_code == 200
        assert words in panel(response.content.decode())
