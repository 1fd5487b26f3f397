"""`manage.py workflow_versions`: which live patches open runs still need (docs/versioning.md).

For each patch id of approvals/workflow/versions.py and of the workflows other apps
plug in (approvals/ports.py: `TemporalParts.patches`) (or `--type T --patch ID`), read
from visibility the open runs of the workflow type: how many started without the
patch (their `TemporalChangeVersion` lacks the id: they need the code before it) and
how many took it, with the oldest start time of each group. The old branch of a
`workflow.patched(id)` may go (deprecate_patch) once no open run lacks it. Runs
started after that deploy carry the id too (deprecate_patch sets it), but their
marker may be skipped on replay: the deprecate_patch call may go once no open run
that started before the deprecation (versions.DEPRECATED, or --deprecated-since)
carries the id.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from approvals import ports
from approvals.temporal.client import TemporalUnavailable, call
from approvals.workflow.versions import CHANGE_VERSION, DEPRECATED, PATCHES

CHANGES = SearchAttributeKey.for_keyword_list(CHANGE_VERSION)


@dataclass
class PatchUse:
    workflow_type: str
    patch: str
    open_runs: int
    without: int  # open runs that started without the patch: they need the old branch
    with_patch: int
    oldest_without: str  # ISO start time, "" when none
    oldest_with: str
    deprecated_since: str = ""  # ISO time of the deploy that made it deprecate_patch
    with_before_deprecation: int = 0  # open runs that took workflow.patched before then

    @property
    def advice(self) -> str:
        if self.deprecated_since:
            if self.with_before_deprecation:
                return "keep workflow.deprecate_patch: open runs took workflow.patched"
            return "deprecate_patch may go: no open run took workflow.patched"
        if self.without:
            return "keep workflow.patched: open runs need the code before it"
        return "old branch may go: replace workflow.patched by workflow.deprecate_patch"


async def open_runs(client: Client, workflow_type: str) -> list[tuple[datetime, set[str]]]:
    """(start time, patch ids taken) of every open run of the type, from visibility."""
    query = f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'"
    runs = []
    async for execution in client.list_workflows(query, page_size=1000):
        taken = execution.typed_search_attributes.get(CHANGES) or []
        runs.append((execution.start_time, set(taken)))
    return runs


def usage(
    workflow_type: str,
    patch: str,
    runs: list[tuple[datetime, set[str]]],
    deprecated_since: datetime | None = None,
) -> PatchUse:
    without = sorted(start for start, taken in runs if patch not in taken)
    with_patch = sorted(start for start, taken in runs if patch in taken)
    before = [start for start in with_patch if deprecated_since and start < deprecated_since]
    return PatchUse(
        workflow_type=workflow_type,
        patch=patch,
        open_runs=len(runs),
        without=len(without),
        with_patch=len(with_patch),
        oldest_without=without[0].isoformat() if without else "",
        oldest_with=with_patch[0].isoformat() if with_patch else "",
        deprecated_since=deprecated_since.isoformat() if deprecated_since else "",
        with_before_deprecation=len(before),
    )


def report(
    patches: dict[str, tuple[str, ...]], deprecated: dict[str, datetime]
) -> tuple[list[PatchUse], dict[str, int]]:
    """Each live patch's use, and the open runs of each workflow type."""

    async def read(client: Client):
        return {kind: await open_runs(client, kind) for kind in patches}

    runs = call(read)
    uses = [
        usage(kind, patch, runs[kind], deprecated.get(patch))
        for kind, ids in patches.items()
        for patch in ids
    ]
    return uses, {kind: len(found) for kind, found in runs.items()}


def live_patches() -> dict[str, tuple[str, ...]]:
    """Workflow type -> live patch ids: approvals' own, then the plugged apps'."""
    patches = dict(PATCHES)
    for parts in ports.temporal_parts():
        patches.update(parts.patches)
    return patches


def moment(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not an ISO 8601 time: {value!r}") from exc
    if when.tzinfo is None:
        raise CommandError(f"give the time zone (e.g. +00:00): {value!r}")
    return when


class Command(BaseCommand):
    help = (
        "For each live workflow patch: how many open runs still need the code before it "
        "(from visibility: TemporalChangeVersion, ExecutionStatus, StartTime)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--type", dest="workflow_type", help="one workflow type only")
        parser.add_argument(
            "--patch", action="append", default=[], help="a patch id to count (repeatable)"
        )
        parser.add_argument(
            "--deprecated-since",
            help="with --patch: ISO time of the deploy that made it deprecate_patch",
        )
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        patches = live_patches()
        deprecated = {patch: moment(value) for patch, value in DEPRECATED.items()}
        kind = options["workflow_type"]
        if kind:
            patches = {kind: tuple(options["patch"]) or live_patches().get(kind, ())}
        elif options["patch"]:
            raise CommandError("--patch needs --type")
        if options["deprecated_since"]:
            if not options["patch"]:
                raise CommandError("--deprecated-since needs --patch")
            since = moment(options["deprecated_since"])
            deprecated.update(dict.fromkeys(options["patch"], since))
        try:
            uses, totals = report(patches, deprecated)
        except TemporalUnavailable as exc:
            raise CommandError(f"Temporal is not reachable: {exc}") from exc
        if options["json"]:
            rows = [{**asdict(use), "advice": use.advice} for use in uses]
            self.stdout.write(json.dumps({"open_runs": totals, "patches": rows}, indent=1))
            return
        for workflow_type, total in totals.items():
            live = [use for use in uses if use.workflow_type == workflow_type]
            if not live:
                self.stdout.write(
                    f"{workflow_type}: {total} open runs; no live patch (baseline 1.0)"
                )
                continue
            self.stdout.write(f"{workflow_type}: {total} open runs")
            for use in live:
                since = f", oldest started {use.oldest_without}" if use.without else ""
                took = f"{use.with_patch} took it"
                if use.deprecated_since:
                    took += (
                        f" ({use.with_before_deprecation} before its deprecation"
                        f" {use.deprecated_since})"
                    )
                self.stdout.write(
                    f"  {use.patch}: {use.without} started without it{since}; "
                    f"{took} -> {use.advice}"
                )
