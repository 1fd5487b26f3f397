"""The workflow's versions, and the `workflow.patched` markers that choose them.

Histories of each version are committed under tests/histories/ and replayed
in CI (tests/approvals/temporal/test_replay.py). Never remove a patch call
while runs of its version may still exist; a new behaviour gets a patch id of
its own (and a flag on `rules.Machine`).

- 1: routing by `resolve_chain`; a level whose approver already approved is
  auto-approved; projection, push and mail run in sequence, mail retried
  forever.
- 2 (`workflow.patched(SOD_PATCH)`): separation of duties (rules.py): such a
  level goes on up, to the admins, or waits on nobody (`needs_approver`);
  routing failures never hang; leavers are re-routed (`reroute` Update); the
  durable record (projection + audit) is written first and the live push
  and mail run beside the state machine with bounded retries; a mail that
  fails for good is recorded (`notification_failed`) and the request goes on.
- 3 (`workflow.patched(POLICY_PATCH)`, requests with a pinned policy version):
  the chain is the pinned version's rules for the request's facts (`Route.levels`,
  workflow/policy.py), with group and named-person levels; SoD as in 2.
- `workflow.patched(PAYOUT_PATCH)` (Machine.payout; histories in v4/): an
  approved request starts its `Payout` child (id `payout-<pk>`, parent close
  policy ABANDON: the payout outlives the approval) and completes only once
  the child has started. Runs that finished their loop before the patch
  start none when replayed.
- fast transitions (`workflow.patched(FAST_PATCH)`, `Machine.fast`, on top of
  2): `record_transition` publishes the live push itself right after its
  commit (no `publish_transition` activity: one activity, three events and a
  hand-off fewer per transition); mail stays a regular activity beside the
  state machine.
- local first steps (`workflow.patched(LOCAL_PATCH)`, `Machine.local_start`, on
  top of fast transitions; histories in v7/): the start's routing and its first
  record run as local activities inside the start's own workflow task, so a new
  request costs one workflow task and one activity (the mail) before it waits,
  instead of four and three. Only the start: its input is durable before the
  task runs, so a task retried after a crash records the same steps again
  (`Transition.local`: the later write wins). A decision's record stays a
  regular activity, scheduled only once the Update is committed. The audit
  timeline reads these steps from the local activities' markers.
- one marker (`workflow.patched(BUNDLE_PATCH)`, `Machine.bundled`; histories in
  v8/): a run started from here on takes every patch above with one marker
  instead of five (each marker also upserts `TemporalChangeVersion`), and
  `_emit` upserts the search attributes only when they changed (the submission
  step's are the start's own). Behaviour is v7's.
Runs started under an earlier version keep its rules to the end.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from . import rules
    from .contract import ApprovalInput

SOD_PATCH = "separation-of-duties"
POLICY_PATCH = "policy-rules"
PAYOUT_PATCH = "payout"
FAST_PATCH = "fast-transitions"
LOCAL_PATCH = "local-first-steps"
# Every patch above at once, for runs started from here on: one marker (and one upsert
# of TemporalChangeVersion) instead of five.
BUNDLE_PATCH = "all-of-2026-12"


def take_patches(m: rules.Machine, inp: ApprovalInput) -> None:
    """Choose the run's version at its start, before any command.

    A run started with every patch takes one marker for them all (and an unchanged
    search attribute is not upserted again); runs started earlier find their own
    markers and keep their rules to the end.
    """
    m.bundled = workflow.patched(BUNDLE_PATCH)
    if m.bundled:
        m.version, m.fast, m.local_start = 2, True, True
    else:
        # Runs started by version 1 replay (and finish) as version 1.
        m.version = 2 if workflow.patched(SOD_PATCH) else 1
        # Runs started before fast transitions keep their activity sequence to the end.
        m.fast = m.version >= 2 and workflow.patched(FAST_PATCH)
        # Runs started before it route and record their start through regular activities.
        m.local_start = m.fast and workflow.patched(LOCAL_PATCH)
    if m.version >= 2 and inp.policy_version:
        # Runs started before policy rules (no pinned version) keep levels_for.
        m.policy_rules = m.bundled or workflow.patched(POLICY_PATCH)


def starts_payout(m: rules.Machine) -> bool:
    """An approved run starts its Payout child (runs that finished their loop before the
    patch start none when replayed)."""
    m.payout = m.bundled or workflow.patched(PAYOUT_PATCH)
    return m.payout
