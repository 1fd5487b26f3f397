"""The visibility budget and the inbox's results against a dev server at a low limit
(`frontend.namespaceRPS.visibility`): throttled means late, never broken; a decision
on one web process refreshes the inbox another serves; identical queries coalesce;
two processes share one budget through Redis.

Real Temporal dev servers (started here with the limit), PostgreSQL, Redis and, for
the two-process tests, real `manage.py serve` / `run_worker` / `python -c` processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from approvals import inbox_feed, metrics
from approvals.selectors import inbox_results
from approvals.temporal import client as temporal_client
from approvals.temporal import visibility
from scripts.run import free_port
from tests.support import ROOT
from tests.support.processes import ManagedProcess, process_env
from tests.support.requests import submit, wait_pending_level
from tests.support.servers import DevServer, WorkerThread, visibility_limit
from tests.support.waiting import wait_for
from tests.support.web import ROW_ID, WebUser, client_for

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = re.compile(r'data-testid="inbox-as-of" data-source="(\w+)" data-age="(\d+)"')
REDIS = "redis://127.0.0.1:6379/5"


@pytest.fixture(scope="module")
def slow_server():
    """A dev server that allows one visibility call a second."""
    server = DevServer(extra_args=visibility_limit(1)).start()
    yield server
    server.stop()


@pytest.fixture
def on_slow_server(settings, slow_server):
    queue = f"vis-{uuid.uuid4().hex[:8]}"
    settings.TEMPORAL_ADDRESS = slow_server.address
    settings.TEMPORAL_TASK_QUEUE = queue
    temporal_client.reset_client()
    thread = WorkerThread(queue).start()
    yield slow_server
    thread.stop()
    temporal_client.reset_client()


def team() -> dict[str, User]:
    tag = uuid.uuid4().hex[:8]
    director = User.objects.create_user(f"vd-{tag}", password="demo", role=Role.DIRECTOR)
    manager = User.objects.create_user(
        f"vm-{tag}", password="demo", role=Role.MANAGER, reports_to=director
    )
    employee = User.objects.create_user(
        f"ve-{tag}", password="demo", role=Role.EMPLOYEE, reports_to=manager
    )
    return {"employee": employee, "manager": manager, "director": director}


def page(client) -> tuple[str, int, list[int], str]:
    response = client.get("/inbox/")
    assert response.status_code == 200
    html = response.content.decode()
    source, age = AS_OF.search(html).groups()
    return source, int(age), [int(pk) for pk in ROW_ID.findall(html)], html


def counter(metric, **labels) -> float:
    return metric.labels(**labels)._value.get()


def fetched_once(client, pk: int) -> None:
    """Until one view made the call and its result holds `pk` (the last good result)."""

    def done():
        source, _age, ids, _ = page(client)
        return source == "fetched" and pk in ids

    wait_for(done, timeout=30, interval=0.3, message="no view ever fetched the row")


# ----------------------------------------------------------------- throttled
def test_server_throttle_serves_the_last_good_result_with_its_age(on_slow_server, settings):
    """Our budget out of the way (1000/s): the server's limit of 1/s answers
    RESOURCE_EXHAUSTED, and every page still shows the row, its age, no error."""
    settings.TEMPORAL_VISIBILITY_RPS = 1000
    people = team()
    request = submit(people["employee"], "120.00")
    wait_pending_level(request, 1)
    boss = client_for(people["manager"])
    fetched_once(boss, request.pk)
    settings.INBOX_CACHE_MAX_AGE = 0  # every view now wants a call
    # Unchanged results older than the safety net refresh at priority "refresh", in the
    # background: the view gets the stored result at once, saying its age.
    before = counter(metrics.VISIBILITY_THROTTLED, priority="refresh", reason="server")
    time.sleep(1.2)
    sources = []
    for _ in range(8):
        started = time.monotonic()
        source, age, ids, html = page(boss)
        assert time.monotonic() - started < 1.0  # never waits for the call
        sources.append(source)
        assert ids == [request.pk]
        assert 'data-testid="inbox-error"' not in html
        # Says so; the events keep its rows current, so it does not ask again by itself.
        assert "a newer list is on its way" in html
        assert 'hx-trigger="load delay:' not in html
    assert set(sources) == {"refreshing"}, sources
    wait_for(
        lambda: counter(metrics.VISIBILITY_THROTTLED, priority="refresh", reason="server") > before,
        timeout=10,
        message="the server never throttled a background refresh",
    )


def test_spent_budget_serves_the_last_good_result_then_the_record_when_cold(
    on_slow_server, settings
):
    """One token a minute: the second view is throttled by our own budget and shows
    the first view's rows and age; an inbox never seen shows the record, not an error."""
    settings.TEMPORAL_VISIBILITY_RPS = 1 / 60
    settings.TEMPORAL_VISIBILITY_BURST = 1
    visibility.reset()
    people = team()
    request = submit(people["employee"], "130.00")
    wait_pending_level(request, 1)
    boss = client_for(people["manager"])
    time.sleep(1.1)  # the slow server's own second
    source, _age, ids, fetched_html = page(boss)
    assert (source, ids) == ("fetched", [request.pk])
    settings.INBOX_CACHE_MAX_AGE = 0
    time.sleep(1.1)
    before = counter(metrics.VISIBILITY_THROTTLED, priority="refresh", reason="budget")
    # The same rows, late: the page rendered for them from the current result (no query
    # for their lines), now saying it is late and asking again by itself.
    assert 'hx-trigger="load delay:' not in fetched_html
    with CaptureQueriesContext(connection) as seen:
        source, age, ids, html = page(boss)
    assert (source, ids) == ("refreshing", [request.pk])
    assert age >= 1 and 'data-testid="inbox-error"' not in html
    wait_for(
        lambda: (
            counter(metrics.VISIBILITY_THROTTLED, priority="refresh", reason="budget") == before + 1
        ),
        timeout=5,
        message="the background refresh never met the spent budget",
    )
    assert not [q for q in seen.captured_queries if "approvals_expenseline" in q["sql"]]
    assert "a newer list is on its way" in html and 'hx-trigger="load delay:' not in html

    # Someone whose inbox was never listed: the projection's rows, said so, no error.
    # A session's first page (it sets the CSRF cookie) is the one its second view gets.
    other = team()
    cold = submit(other["employee"], "140.00")
    wait_pending_level(cold, 1)
    newcomer = client_for(other["manager"])
    newcomer.cookies.pop("csrftoken", None)
    source, _age, ids, html = page(newcomer)
    assert (source, ids) == ("record", [cold.pk])
    assert "Showing the approval record" in html and 'data-testid="inbox-error"' not in html
    assert "csrftoken" in newcomer.cookies
    with CaptureQueriesContext(connection) as seen:
        source, _age, ids, again = page(newcomer)
    assert (source, ids) == ("record", [cold.pk])
    assert not [q for q in seen.captured_queries if "approvals_expenseline" in q["sql"]]
    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert token.search(again) and token.search(again).group(1) == token.search(html).group(1)
    # The badge never spends visibility: it counts from the projection.
    badge = client_for(other["manager"]).get("/inbox/count/").content.decode()
    assert 'data-testid="inbox-count">1<' in badge


def test_a_decided_row_leaves_at_once_even_when_throttled(on_slow_server, settings):
    """The workflow's own event is laid over the last good result: no call needed."""
    settings.TEMPORAL_VISIBILITY_RPS = 1 / 60
    settings.TEMPORAL_VISIBILITY_BURST = 1
    visibility.reset()
    people = team()
    request = submit(people["employee"], "1500.00")  # two levels: manager, director
    wait_pending_level(request, 1)
    boss, director = client_for(people["manager"]), client_for(people["director"])
    time.sleep(1.1)
    assert page(boss)[2] == [request.pk]  # the budget's one token
    assert page(director)[0] == "record"
    response = boss.post(
        f"/requests/{request.pk}/decide/",
        {"action": "approve", "decision_id": str(uuid.uuid4()), "level": 1},
    )
    assert response.status_code == 302
    wait_pending_level(request, 2)
    wait_for(lambda: page(boss)[2] == [], timeout=5, message="row stayed in the inbox")
    # No call was made or needed: the event says all a call would (the whole listing).
    source, _age, _ids, html = page(boss)
    assert source == "events" and "with the changes pushed since" in html
    assert counter(metrics.INBOX_RESULTS, source="events") > 0
    wait_for(lambda: request.pk in page(director)[2], timeout=5)


# ----------------------------------------------------------------- coalescing
def test_identical_queries_in_flight_make_one_call(on_slow_server, settings, monkeypatch):
    settings.TEMPORAL_VISIBILITY_RPS = 1000
    people = team()
    request = submit(people["employee"], "150.00")
    wait_pending_level(request, 1)
    time.sleep(1.1)
    calls: list[str] = []
    service = temporal_client.call(_same).service_client
    original = service._rpc_call

    async def slow_spy(rpc, *args, **kwargs):
        calls.append(rpc)
        await asyncio.sleep(0.5)  # long enough for every caller to arrive
        return await original(rpc, *args, **kwargs)

    monkeypatch.setattr(service, "_rpc_call", slow_spy)
    inbox_feed.reset()
    gate = threading.Barrier(6)
    results: list = []

    def view() -> None:
        gate.wait()
        result = inbox_results.inbox_result(user=people["manager"], token=None)
        results.append((result.source, [r.request_id for r in result.rows]))
        connection.close()

    threads = [threading.Thread(target=view) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert calls == ["list_workflow_executions"]
    assert sorted(s for s, _ in results) == ["coalesced"] * 5 + ["fetched"]
    assert all(ids == [request.pk] for _, ids in results)


async def _same(client):
    return client


# ------------------------------------------------------- two processes, one Redis
def test_a_decision_on_one_web_process_refreshes_the_inbox_of_another(
    tmp_path, demo_org, settings, request
):
    server = DevServer(extra_args=visibility_limit(10)).start()
    queue = f"vis2-{uuid.uuid4().hex[:8]}"
    settings.TEMPORAL_ADDRESS, settings.TEMPORAL_TASK_QUEUE = server.address, queue
    temporal_client.reset_client()
    env = process_env(
        database_name=connection.settings_dict["NAME"], temporal=server.address, task_queue=queue
    )
    # One Redis for every process; results would otherwise live ten minutes.
    env.update(REDIS_URL=REDIS, REDIS_PREFIX=f"vis-{uuid.uuid4().hex[:8]}")
    env["INBOX_CACHE_MAX_AGE"] = "600"
    ports = [free_port(), free_port()]
    procs = [ManagedProcess(["run_worker"], env, tmp_path / "worker.log")] + [
        ManagedProcess(["serve", "--no-worker", "--port", str(p)], env, tmp_path / f"web{p}.log", p)
        for p in ports
    ]

    def stop_all() -> None:
        for p in procs:
            p.stop()
        server.stop()
        temporal_client.reset_client()

    request.addfinalizer(stop_all)
    for p in procs:
        p.start()
    web_a, web_b = (f"http://127.0.0.1:{p}" for p in ports)
    expense = submit(demo_org["emma"], "1500.00")  # max, then diana
    wait_pending_level(expense, 1)
    max_b, diana_b = WebUser(web_b, "max"), WebUser(web_b, "diana")

    def ids(user: WebUser) -> list[int]:
        status, html = user.get("/inbox/")
        assert status == 200
        return [int(pk) for pk in ROW_ID.findall(html)]

    wait_for(lambda: expense.pk in ids(max_b), timeout=20)
    assert expense.pk not in ids(diana_b)
    # Both results are now stored (fresh for ten minutes unless an event says otherwise).
    _, html = max_b.get("/inbox/")
    assert AS_OF.search(html).group(1) == "fresh"

    status, _ = WebUser(web_a, "max").decide(
        expense.pk, action="approve", decision_id=str(uuid.uuid4()), level=1
    )
    assert status == 302
    decided = time.monotonic()
    wait_for(lambda: expense.pk not in ids(max_b), timeout=5, message="row stayed on B")
    wait_for(lambda: expense.pk in ids(diana_b), timeout=5, message="row never reached B")
    assert time.monotonic() - decided < 5


BUDGET_SCRIPT = """
import json, time, django
django.setup()
from approvals.temporal import visibility
from approvals.temporal.client import call


async def connected(client):
    return None


call(connected, timeout=30)  # connect before the window: it measures calls only
ok = throttled = budget = 0
time.sleep(max(0, {start_at} - time.time()))  # both processes start together
end = time.time() + {seconds}
while time.time() < end:
    try:
        visibility.count("ExecutionStatus = 'Running'", priority=visibility.Priority.INBOX,
                         wait=0.5)
        ok += 1
    except visibility.Throttled as exc:
        throttled += exc.reason == "server"
        budget += exc.reason == "budget"
print(json.dumps({{"ok": ok, "server_throttled": throttled, "budget_throttled": budget}}))
"""


def test_two_processes_share_one_budget(tmp_path):
    """Two processes, each trying as hard as it can for 6 s, at a budget of 3/s with a
    burst of 2: together they make at most 3 * 6 + 2 calls (each alone could make
    that many), and the server (limit 10/s) never had to throttle them."""
    server = DevServer(extra_args=visibility_limit(10)).start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_DEBUG="1",
            TEMPORAL_ADDRESS=server.address,
            REDIS_URL=REDIS,
            REDIS_PREFIX=f"vis-{uuid.uuid4().hex[:8]}",
            TEMPORAL_VISIBILITY_RPS="3",
            TEMPORAL_VISIBILITY_BURST="2",
        )
        code = BUDGET_SCRIPT.format(seconds=6, start_at=time.time() + 15)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outs = [json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in procs]
    finally:
        server.stop()
    total = sum(o["ok"] for o in outs)
    assert all(o["ok"] >= 1 for o in outs), outs  # both got a share
    # One budget, not two (each alone could make 3 * 6 + 2). The lower bound is loose:
    # on a busy machine a call itself can take longer than a token's interval.
    assert 3 * 6 // 2 <= total <= 3 * 6 + 2 + 1, outs
    assert sum(o["server_throttled"] for o in outs) == 0, outs


def test_redis_unreachable_never_fails_an_inbox_page(worker, settings):
    """Budget and stored results both in Redis, Redis gone: pages still answer with
    the rows (a budgeted call, or the projection), never a 500."""
    people = team()
    request = submit(people["employee"], "160.00")
    wait_pending_level(request, 1)
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    boss = client_for(people["manager"])
    for _ in range(3):
        source, _age, ids, html = page(boss)
        assert source in ("fetched", "record") and ids == [request.pk]
        assert 'data-testid="inbox-error"' not in html
    assert boss.get("/inbox/count/").status_code == 200


def test_lower_priorities_leave_a_reserve_for_the_inbox(settings):
    """A bucket of 5 refilling at 1 a minute: the safety-net refresh stops while a
    token is still left, which an inbox page an event changed then gets; a badge
    and /ops/ stop earlier still."""
    settings.REDIS_URL = ""
    settings.TEMPORAL_VISIBILITY_RPS = 1 / 60
    settings.TEMPORAL_VISIBILITY_BURST = 5
    visibility.reset()
    P = visibility.Priority
    for _ in range(2):
        visibility.acquire(P.INBOX)  # 5 -> 3
    with pytest.raises(visibility.Throttled):
        visibility.acquire(P.OPS)  # needs 1 + 2.5
    visibility.acquire(P.REFRESH)  # needs 1 + 1: 3 -> 2
    visibility.acquire(P.REFRESH)  # 2 -> 1
    with pytest.raises(visibility.Throttled):
        visibility.acquire(P.REFRESH)
    with pytest.raises(visibility.Throttled):
        visibility.acquire(P.BADGE)
    visibility.acquire(P.INBOX)  # the last token: 1 -> 0
    with pytest.raises(visibility.Throttled) as spent:
        visibility.acquire(P.INBOX)
    assert spent.value.reason == "budget" and spent.value.wait > 50
