"""Crash test of the payout: the worker process is killed (-9) and restarted again and
again while approved requests go through the saga and payout runs pay them.

Half of the requesters have no IBAN, so their payouts fail at the batch step and
compensate (ledger reversed, budget released) while the worker dies under them;
the others are paid by payout runs started during the chaos. At the end every
payout has ended exactly once: one closed Payout workflow, one reservation, two
posted lines (and two reversals for a failed one), the paid ones in exactly one
SEPA file, and no audit step twice.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection

from accounts.models import User
from approvals import services
from approvals.models import AuditEntry
from approvals.temporal import client as temporal_client
from approvals.temporal.client import call
from payouts.models import Batch, LedgerLine, Payment, Reservation
from payouts.services import payout_run
from payouts.workflow.contract import payout_id
from tests.support.processes import ManagedProcess, process_env
from tests.support.requests import state_of, submit
from tests.support.servers import DevServer

# With the other crash and flood tests on one worker (see test_crash.py).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(900),
    pytest.mark.xdist_group("heavy"),
]
N = int(os.environ.get("PAYOUT_CRASH_N", "16"))


def retrying(fn, deadline: float):
    """Call `fn` until it answers: the worker (or the server's view of it) may be down."""
    while True:
        try:
            return fn()
        except Exception:  # noqa: BLE001 - down, refused while restarting, timed out
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def pending(request) -> list[str]:
    approvers = state_of(request).pending_approvers
    if not approvers:
        raise TimeoutError("not routed yet")
    return approvers


def test_every_payout_ends_exactly_once_when_the_worker_is_killed(
    tmp_path, demo_org, settings, request
):
    rng = random.Random(int(os.environ.get("CRASH_SEED", "20261201")))
    queue = f"payout-crash-{uuid.uuid4().hex[:8]}"
    settings.TEMPORAL_TASK_QUEUE = queue
    User.objects.filter(username="finn").update(iban="")  # finn's payouts fail and compensate
    server = DevServer(db_file=tmp_path / "temporal.db").start()
    settings.TEMPORAL_ADDRESS = server.address
    temporal_client.reset_client()
    request.addfinalizer(lambda: (server.stop(), temporal_client.reset_client()))
    env = process_env(
        database_name=connection.settings_dict["NAME"], temporal=server.address, task_queue=queue
    )
    worker = ManagedProcess(["run_worker"], env, tmp_path / "worker.log")
    request.addfinalizer(worker.stop)
    worker.start()
    stop = threading.Event()
    kills = Counter()

    until = time.monotonic() + 60  # then calm, to finish in

    def chaos() -> None:
        # Long enough between kills for a restarted worker to poll and run a few tasks.
        while not stop.wait(rng.uniform(3.0, 6.0)) and time.monotonic() < until:
            worker.restart()
            kills["worker"] += 1

    thread = threading.Thread(target=chaos, daemon=True)
    deadline = time.monotonic() + 420
    try:
        thread.start()
        requests = []
        for i in range(N):
            who = "emma" if i % 2 == 0 else "finn"
            expense = submit(demo_org[who], f"{rng.randint(20, 900)}.00", title=f"crash {i}")
            requests.append(expense)
        for expense in requests:
            retrying(lambda r=expense: pending(r), deadline)
            approver = demo_org[expense.requester.username].reports_to
            retrying(
                lambda r=expense, a=approver: services.decision_record(
                    request=r, actor=a, action="approve", decision_id=f"crash-{r.pk}"
                ),
                deadline,
            )
        periods = []
        for n in range(3):  # runs while payouts are still going through the saga
            period = f"crash-{queue}-{n}"
            retrying(lambda p=period: payout_run(period=p, timeout=30), deadline)
            periods.append(period)
            time.sleep(rng.uniform(0.5, 1.5))
    finally:
        stop.set()
        thread.join(10)
    # Calm: the worker stays up; pay whatever the chaos runs did not reach.
    emma_ids = {r.pk for r in requests if r.requester.username == "emma"}
    finn_ids = {r.pk for r in requests if r.requester.username == "finn"}

    def settled() -> bool:
        done = Payment.objects.filter(request_id__in=emma_ids, status="paid").count()
        failed = Payment.objects.filter(request_id__in=finn_ids, status="failed").count()
        return done == len(emma_ids) and failed == len(finn_ids)

    n = 0
    while not settled():
        assert time.monotonic() < deadline, "payouts never settled"
        retrying(lambda k=n: payout_run(period=f"calm-{queue}-{k}", timeout=30), deadline)
        n += 1
        time.sleep(1)

    async def closed(client, pk):
        desc = await client.get_workflow_handle(payout_id(pk)).describe()
        runs = [w async for w in client.list_workflows(f"WorkflowId = '{payout_id(pk)}'")]
        return desc.status.name, len(runs)

    try:
        for expense in requests:
            pk = expense.pk
            want = "COMPLETED" if pk in emma_ids else "FAILED"
            while (answer := call(lambda c, pk=pk: closed(c, pk), timeout=15))[0] == "RUNNING":
                time.sleep(0.5)
            assert answer == (want, 1), (pk, answer)
            lines = LedgerLine.objects.filter(request_id=pk)
            assert Reservation.objects.filter(request_id=pk).count() == 1, pk
            assert lines.filter(kind="post").count() == 2, pk
            if pk in emma_ids:
                assert Reservation.objects.get(request_id=pk).released_at is None
                assert lines.filter(kind="reversal").count() == 0, pk
                files = [b.sepa_xml for b in Batch.objects.exclude(sepa_xml="")]
                assert sum(xml.count(f"<EndToEndId>EXP{pk}R1<") for xml in files) == 1, pk
            else:
                assert Reservation.objects.get(request_id=pk).released_at is not None
                assert lines.filter(kind="reversal").count() == 2, pk
                assert Payment.objects.get(request_id=pk).reason == "no_iban"
            assert sum(x.debit_cents - x.credit_cents for x in lines) == 0
    finally:
        worker.stop()
    steps = Counter(
        AuditEntry.objects.filter(request_id__in=emma_ids | finn_ids, source="payout").values_list(
            "request_id", "kind", "key"
        )
    )
    assert all(count == 1 for count in steps.values())
    print(
        f"\npayout crash test: N={N} worker kills={kills['worker']} "
        f"paid={len(emma_ids)} failed+compensated={len(finn_ids)} runs={len(periods) + n}"
    )
