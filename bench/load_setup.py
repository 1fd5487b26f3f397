"""bench/load.py's set-up and scraping: approvers and employees, the open requests
(started with what starter.start_workflow sends), sessions made directly (sign-in is
not what is measured), and the web processes' visibility counters."""

from __future__ import annotations

import asyncio
import random
import re
import time
from datetime import UTC, datetime
from decimal import Decimal

approver = "load-a{:04d}".format
employee = "load-e{:04d}".format


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def seed(n_approvers: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.bank import make_iban
    from accounts.models import Role, User
    from payouts.models import CostCentre

    call_command("migrate", "--noinput", verbosity=0)
    password = make_password("demo")
    # Each requester books on a cost centre and has bank details, so an approved request is
    # paid as in a company (without them every payout failed `no_cost_centre` and landed on
    # /ops/, load that is not the product's: BENCHMARKS.md, issue 28, fifth session).
    centre = CostCentre.objects.create(
        code="CC-LOAD",
        name="Load",
        year=timezone.localdate().year,
        budget_cents=10**12,
    )
    boss = User.objects.create(username="load-boss", role=Role.DIRECTOR, password=password)
    managers = User.objects.bulk_create(
        User(
            username=approver(i),
            role=Role.MANAGER,
            reports_to=boss,
            password=password,
            first_name="Approver",
            last_name=str(i),
        )
        for i in range(n_approvers)
    )
    User.objects.bulk_create(
        User(
            username=employee(i),
            role=Role.EMPLOYEE,
            reports_to=managers[i],
            password=password,
            cost_centre=centre,
            iban=make_iban("DE", f"370400440{i:09d}"),
            bic="COBADEFFXXX",
            first_name="Employee",
            last_name=str(i),
        )
        for i in range(n_approvers)
    )
    return {u.username: u for u in User.objects.filter(username__startswith="load-")}


def open_requests(users: dict, client, n: int, approvers: int) -> dict[str, set[int]]:
    """`n` one-level requests (under 1,000 EUR), round-robin over the approvers,
    started with what starter.start_workflow sends. Returns approver -> request ids."""
    import dataclasses

    from django.db.models import prefetch_related_objects
    from django.utils import timezone

    from approvals.models import ExpenseRequest, RequestStatus
    from approvals.temporal import starter

    snapshot = dataclasses.asdict(starter.policy_snapshot())
    rng = random.Random(28)
    rows = [
        ExpenseRequest(
            requester=users[employee(k % approvers)],
            title=f"Load request {k}",
            amount=Decimal(rng.randrange(1000, 90000)) / 100,
            currency="EUR",
            category="travel",
            status=RequestStatus.PENDING,
            policy_snapshot=snapshot,
            workflow_started_at=timezone.now(),
        )
        for k in range(n)
    ]
    created = ExpenseRequest.objects.bulk_create(rows, batch_size=2000)

    # The inputs read each report's lines: from the database, before the event loop.
    prefetch_related_objects(created, "lines")
    inputs = [starter.workflow_input(request) for request in created]

    async def start_all() -> None:
        gate = asyncio.Semaphore(64)

        async def one(inp) -> None:
            async with gate:
                await starter.start_workflow(client, inp)

        await asyncio.gather(*(one(inp) for inp in inputs))

    t = time.perf_counter()
    asyncio.run(start_all())
    log(f"{n} workflows started in {time.perf_counter() - t:.0f}s")
    plan: dict[str, set[int]] = {approver(i): set() for i in range(approvers)}
    for k, request in enumerate(created):
        plan[approver(k % approvers)].add(request.pk)
    return plan


def wait_projected(total: int, timeout: float = 3600) -> float:
    """Until the worker has recorded every request as pending on its approver (the
    projection, not visibility: the bench spends none of the budget itself)."""
    from approvals.models import ExpenseRequest

    t0 = time.perf_counter()
    last = 0.0
    while time.perf_counter() - t0 < timeout:
        done = ExpenseRequest.objects.filter(status="pending", current_level=1).count()
        if done >= total:
            return time.perf_counter() - t0
        if time.perf_counter() - last > 15:
            log(f"  projected {done}/{total}")
            last = time.perf_counter()
        time.sleep(1)
    raise RuntimeError("the worker did not record every request in time")


def sessions(users: dict, approvers: int) -> dict[str, str]:
    """A signed-in session per approver, made directly (sign-in is not measured)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
    out = {}
    for i in range(approvers):
        user = users[approver(i)]
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        out[user.username] = store.session_key
    return out


COUNTERS = (
    "approvals_visibility_calls_total",
    "approvals_inbox_results",
    "approvals_inbox_pages",
    "approvals_web_shed",
)


def scrape(ports: list[int]) -> dict[str, float]:
    """Sum of the visibility and inbox-result counters over the web processes."""
    import urllib.request

    totals: dict[str, float] = {}
    for port in ports:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        except OSError:
            continue
        for line in text.decode().splitlines():
            if line.startswith(COUNTERS):
                name, _, value = line.rpartition(" ")
                totals[name] = totals.get(name, 0.0) + float(value)
    return totals


def summarize_counters(before: dict, after: dict) -> dict:
    calls = sum(
        v - before.get(k, 0)
        for k, v in after.items()
        if "visibility_calls" in k and 'outcome="ok"' in k
    )
    throttled = sum(v - before.get(k, 0) for k, v in after.items() if 'outcome="throttled"' in k)
    sources: dict[str, float] = {}
    for k, v in after.items():
        m = re.search(r'approvals_inbox_results_total\{source="(\w+)"\}', k)
        if m:
            sources[m.group(1)] = sources.get(m.group(1), 0) + v - before.get(k, 0)
    shed: dict[str, float] = {}
    for k, v in after.items():
        m = re.search(r'approvals_web_shed_total\{kind="(\w+)"\}', k)
        if m:
            shed[m.group(1)] = shed.get(m.group(1), 0) + v - before.get(k, 0)
    pages: dict[str, float] = {}  # inbox pages from a fresh result: rendered or reused
    for k, v in after.items():
        m = re.search(r'approvals_inbox_pages_total\{outcome="(\w+)"\}', k)
        if m:
            pages[m.group(1)] = pages.get(m.group(1), 0) + v - before.get(k, 0)
    return {
        "visibility_calls": calls,
        "server_throttled": throttled,
        "sources": sources,
        "pages": pages,
        "shed_503": shed,
    }


def lost(approved: list[int], timeout: float = 120) -> list[int]:
    """Approved by an answered Update, yet not approved in the projection after a while."""
    from approvals.models import ExpenseRequest

    deadline = time.monotonic() + timeout
    while True:
        done = set(
            ExpenseRequest.objects.filter(pk__in=approved, status="approved").values_list(
                "pk", flat=True
            )
        )
        missing = sorted(set(approved) - done)
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(2)


def applied(ids: list[int]) -> int:
    """How many of the decisions answered with an error were approved all the same."""
    from approvals.models import ExpenseRequest

    return ExpenseRequest.objects.filter(pk__in=ids, status="approved").count()
