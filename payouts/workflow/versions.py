"""The live patches of the Payout saga and the PayoutRun (the rule: docs/versioning.md).

1.0 is the baseline, recorded in tests/histories/payout/1.0/. Listed here as
approvals/workflow/versions.py lists the approval's; the payouts app plugs them into
`manage.py workflow_versions` (payouts/extension.py: TemporalParts.patches).
"""

from __future__ import annotations

from .contract import PAYOUT_RUN_WORKFLOW, PAYOUT_WORKFLOW

# Workflow type -> its live patch ids, oldest first.
PATCHES: dict[str, tuple[str, ...]] = {
    PAYOUT_WORKFLOW: (),
    PAYOUT_RUN_WORKFLOW: (),
}
