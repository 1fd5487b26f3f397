"""The live patches of each workflow type (the rule: docs/versioning.md).

1.0 is the baseline: the code as it behaves with no `workflow.patched` branch,
recorded in tests/histories/1.0/. A change of
the commands a run issues after 1.0 gets a patch id, listed here under its
workflow type while any `workflow.patched(id)` or `workflow.deprecate_patch(id)`
call for it remains (tests/approvals/temporal/test_versions.py keeps this list
and the calls in step), and a history folder of its own (1.1, 1.2, ...).

`manage.py workflow_versions` counts, for each patch listed here, the open runs
that started without it (from visibility: `TemporalChangeVersion`): a patch's
old branch may go once that count is 0; its deprecate_patch call once no open
run started before the deprecation carries it.
"""

from __future__ import annotations

from .contract import WORKFLOW_TYPE

# Workflow type -> its live patch ids, oldest first. The periodic mails (DailyDigest,
# OverdueReport) run for minutes: a change waits for the open ones to finish instead.
# Other apps' workflows list theirs beside their code (payouts/workflow/versions.py)
# and plug them in (approvals/ports.py: TemporalParts.patches).
PATCHES: dict[str, tuple[str, ...]] = {
    WORKFLOW_TYPE: ("26-expense-lines", "31-business-calendar"),
}
# Patch id -> ISO time (with offset) of the deploy that replaced its workflow.patched
# by workflow.deprecate_patch: runs started before then may carry the non-deprecated
# marker, so the deprecate_patch call stays until none of them is open.
DEPRECATED: dict[str, str] = {}
# The search attribute the SDK adds each patch id to when a run takes the patch.
CHANGE_VERSION = "TemporalChangeVersion"
