"""What payouts plugs into approvals (approvals/ports.py): registered by
`PayoutsConfig.ready()`. Approvals imports nothing from payouts; it calls these
through its ports, and works without them (no payment, no budgets, no payout panels
on /ops/, no payout workflows, activities or schedule)."""

from __future__ import annotations

from approvals.ports import Extension, OpsPanel, TemporalParts

from . import demo, labels, selectors


def temporal_parts() -> TemporalParts:
    """The Payout saga and the PayoutRun on the approvals worker's queue (the approval
    workflow starts the saga as its child), their activities, the weekly run's schedule
    and the live patches of both workflows."""
    from .activities import PAYOUT_ACTIVITIES
    from .schedule import PAYOUT_RUN_ENTRY
    from .workflow.versions import PATCHES
    from .workflow.workflow import PayoutRunWorkflow, PayoutWorkflow

    return TemporalParts(
        workflows=(PayoutWorkflow, PayoutRunWorkflow),
        activities=tuple(PAYOUT_ACTIVITIES),
        passthrough_modules=("payouts.workflow",),
        schedules=(PAYOUT_RUN_ENTRY,),
        patches=PATCHES,
    )


def step_words(kind: str, detail: dict) -> str | None:
    """The saga's audit rows (payouts/steps.py: kinds `payout_*`) for the timeline."""
    return labels.payout_summary(kind, detail) if kind.startswith("payout_") else None


def ops_panels() -> list[OpsPanel]:
    """/ops/: payouts that failed (retry) and payout runs that wrote no file (retry)."""
    return [
        OpsPanel(
            "payouts/_ops_panels.html",
            {
                "failed_payouts": selectors.failed_payouts(),
                "stuck_batches": selectors.stuck_batches(),
            },
        )
    ]


EXTENSION = Extension(
    name="payouts",
    temporal_parts=temporal_parts,
    payment_for=selectors.payment_for,
    budgets_left=selectors.budgets_left,
    payment_word=labels.status_text,
    step_words=step_words,
    ops_panels=ops_panels,
    seed_demo=demo.seed_cost_centres,
)
