"""`manage.py audit_verify [--request N] [--head HASH | --workflow]`: check the audit log.

Recomputes every row's hash, checks each row follows the one before it, and
compares each chain's newest hash with the head held elsewhere: `--head` (e.g.
the workflow's, as an auditor read it from Temporal) or else the request's
`audit_head`; with `--workflow`, also against the head the request's workflow
holds (asked with its `get_status` query), which rows deleted in the database
cannot change. Exits 1 and names the first broken row of each broken request; 0
when every chain is whole. See SECURITY.md "Audit log".
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from approvals.audit_chain import check_rows, check_workflow_head, snapshot, verify_all
from approvals.models import ExpenseRequest


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log (all requests, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--request", type=int, help="only this request's chain")
        parser.add_argument(
            "--head",
            help="the newest hash as held elsewhere (the workflow); needs --request",
        )
        parser.add_argument(
            "--workflow",
            action="store_true",
            help="also compare with the head the request's workflow holds; needs --request",
        )

    def handle(self, *args, request=None, head=None, workflow=False, **options):
        if (head or workflow) and request is None:
            raise CommandError("--head and --workflow need --request")
        if request is not None:
            found = snapshot(request)
            if found is None:
                raise CommandError(f"No request {request}.")
            stored, rows, verdict = found
            if head:  # the head held elsewhere decides, not the projection's copy
                verdict = check_rows(request, rows, head)
            if verdict is None and workflow:
                verdict = check_workflow_head(request, rows, self._workflow_head(request))
            breaks = [verdict] if verdict is not None else []
            checked = 1
        else:
            breaks = verify_all()
            checked = ExpenseRequest.objects.count()
        for found in breaks:
            self.stderr.write(f"BROKEN {found}")
        if breaks:
            self.stderr.write(f"{len(breaks)} of {checked} audit chains broken.")
            sys.exit(1)
        self.stdout.write(f"{checked} audit chain(s) verified, none broken.")

    def _workflow_head(self, request_id: int) -> str:
        from approvals.services import status_query

        try:
            state = status_query(ExpenseRequest.objects.get(pk=request_id))
        except Exception as exc:  # unreachable, no such workflow: say so, never a traceback
            raise CommandError(
                f"The workflow of request {request_id} did not answer: {exc}"
            ) from exc
        return state.audit_head
