"""Payouts builds on approvals, never the other way round (issue 24): approvals imports
nothing from payouts and calls it only through approvals/ports.py, whose defaults let
approvals work alone; payouts registers every hook, and approvals calls every one."""

from __future__ import annotations

import ast
import os
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import User
from approvals import ports
from approvals.management.commands.workflow_versions import live_patches
from approvals.models import ExpenseLine, ExpenseRequest
from approvals.temporal.schedules import schedule_ids
from approvals.words import payment_word
from approvals.worker import worker as worker_module
from payouts.activities import PAYOUT_ACTIVITIES
from payouts.extension import EXTENSION
from payouts.models import Payment
from payouts.workflow.contract import PAYOUT_RUN_SCHEDULE_ID, PayoutStatus
from payouts.workflow.workflow import PayoutRunWorkflow, PayoutWorkflow
from tests.config.test_layout import FIRST_PARTY, modules, offences, within
from tests.support import ROOT
from tests.support.web import client_for


def test_approvals_imports_nothing_from_payouts():
    """Not at module level, not inside a function (the import reader sees both)."""
    paths = modules("approvals")
    assert paths
    assert offences(paths, lambda name: within(name, "payouts")) == []


def test_the_payout_workflow_package_imports_no_django_and_nothing_that_does():
    """payouts/workflow/ is loaded by the sandbox (passed through) and the replay test
    alone, as approvals/workflow/ is: it may use the approval's handoff, nothing else."""
    paths = modules("payouts/workflow")
    assert {p.name for p in paths} >= {"contract.py", "workflow.py", "versions.py"}
    pure = ("approvals.workflow", "approvals.calendar", "payouts.workflow")

    def forbidden(name: str) -> bool:
        if within(name, "django", "channels", "asgiref"):
            return True
        return within(name, *FIRST_PARTY, "payouts") and not within(name, *pure)

    assert offences(paths, forbidden) == []


def port_calls() -> set[str]:
    """The port functions approvals calls (`ports.<name>(...)`, or imported by name)."""
    called: set[str] = set()
    for path in modules("approvals"):
        if path == ROOT / "approvals" / "ports.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        local = {
            alias.asname or alias.name: alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("ports")
            for alias in node.names
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "ports"
            ):
                called.add(func.attr)
            elif isinstance(func, ast.Name) and func.id in local:
                called.add(local[func.id])
    return called


def test_every_hook_payouts_registers_is_called_by_approvals():
    """No dead hook: payouts implements every hook of an Extension, is registered (by
    PayoutsConfig.ready), and approvals calls the port of each one."""
    assert ports.HOOKS
    assert [hook for hook in ports.HOOKS if getattr(EXTENSION, hook) is None] == []
    assert EXTENSION in ports.extensions()
    for hook in ports.HOOKS:
        assert callable(getattr(ports, hook)), f"no port function for the hook {hook}"
    assert set(ports.HOOKS) <= port_calls()


@pytest.fixture
def built(monkeypatch):
    """build_worker's Worker arguments, without a server (Worker replaced by a recorder)."""
    monkeypatch.setattr(worker_module, "Worker", lambda client, **kwargs: kwargs)

    def build() -> dict:
        kwargs = worker_module.build_worker(None, task_queue="ports-test")
        runner = kwargs["workflow_runner"]
        kwargs["passthrough"] = set(runner.restrictions.passthrough_modules)
        return kwargs

    return build


def test_the_worker_runs_the_payout_parts_only_when_payouts_is_plugged(built, settings):
    settings.TEMPORAL_WORKFLOW_SANDBOX = True
    plugged = built()
    assert {PayoutWorkflow, PayoutRunWorkflow} <= set(plugged["workflows"])
    assert set(PAYOUT_ACTIVITIES) <= set(plugged["activities"])
    assert "payouts.workflow" in plugged["passthrough"]
    with ports.only():  # approvals alone
        alone = built()
    assert not {PayoutWorkflow, PayoutRunWorkflow} & set(alone["workflows"])
    assert alone["workflows"] == plugged["workflows"][:3]
    assert not set(PAYOUT_ACTIVITIES) & set(alone["activities"])
    assert alone["activities"] == plugged["activities"][: len(alone["activities"])]
    assert "payouts.workflow" not in alone["passthrough"]
    assert {"approvals.workflow", "approvals.calendar"} <= alone["passthrough"]


def test_schedules_and_patches_come_from_the_plugged_apps():
    assert schedule_ids()[-1] == PAYOUT_RUN_SCHEDULE_ID
    assert {"Payout", "PayoutRun"} <= set(live_patches())
    with ports.only():
        assert PAYOUT_RUN_SCHEDULE_ID not in schedule_ids()
        assert set(live_patches()) == {"ExpenseApproval"}
        assert ports.temporal_parts() == []


def test_the_ports_defaults_are_safe_when_nothing_is_plugged():
    with ports.only():
        assert ports.payment_for(1) is None
        assert ports.budgets_left(["emma"]) == {}
        assert payment_word("on_hold") == "on hold"
        assert ports.step_words("payout_paid", {"batch": 1}) is None
        assert ports.ops_panels() == []
        ports.seed_demo({})  # nothing to add
    assert "#7" in ports.step_words("payout_paid", {"batch": 7})


@pytest.mark.django_db
def test_approvals_alone_seeds_and_renders_the_request_page_and_ops():
    """Without payouts' registration: seed_demo makes the people (no cost centres), the
    request page shows no payment or budget, /ops/ no payout panels; with it, they are back."""
    with ports.only(), open(os.devnull, "w") as devnull:
        call_command("seed_demo", stdout=devnull)
    assert not User.objects.filter(cost_centre__isnull=False).exists()
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", stdout=devnull)
    org = {u.username: u for u in User.objects.all()}
    assert org["emma"].cost_centre.code == "CC-ENG"

    expense = ExpenseRequest.objects.create(
        requester=org["emma"],
        title="Train",
        amount=Decimal("50.00"),
        category="travel",
        status="pending",
        pending_approvers=["max"],
        current_level=1,
    )
    ExpenseLine.objects.create(  # the budget left is shown under the lines
        request=expense,
        position=1,
        category="travel",
        amount=Decimal("50.00"),
        base_amount_cents=5000,
    )
    Payment.objects.create(
        request_id=expense.pk,
        requester="emma",
        amount_cents=5000,
        status=PayoutStatus.PROCESSING,
    )
    manager, admin = client_for(org["max"]), client_for(org["admin"])
    with ports.only():
        page = manager.get(f"/requests/{expense.pk}/")
        ops = admin.get("/ops/")
    assert page.status_code == 200 and ops.status_code == 200
    assert 'data-testid="payment-status"' not in page.content.decode()
    assert 'data-testid="budget-left"' not in page.content.decode()
    assert 'data-testid="ops-failed-payouts"' not in ops.content.decode()

    page = manager.get(f"/requests/{expense.pk}/").content.decode()
    assert 'data-testid="payment-status"' in page
    assert 'data-testid="budget-left"' in page
    ops = admin.get("/ops/").content.decode()
    assert 'data-testid="ops-failed-payouts"' in ops and 'data-testid="ops-stuck-batches"' in ops
