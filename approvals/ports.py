"""The ports other apps plug into: approvals imports no app that builds on it (issue 24).

Approvals works alone: no payment on a request, no budgets in the inbox, no extra
/ops/ panels, no extra workflows, activities or schedules. An app that builds on it
(payouts) registers one `Extension` from its `AppConfig.ready()`
(payouts/apps.py -> payouts/extension.py); approvals calls the functions below,
each with a safe default when nothing is registered.

One registry, typed hooks, no Django and no temporalio here: the worker, the
schedules, selectors, views, the consumer, words and seed_demo all read it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .temporal.schedules import ScheduleEntry

# request id -> what templates/payouts/_payment_status.html shows (None: no payment).
PaymentFor = Callable[[int], Any]
# usernames -> EUR cents left on each one's budget (absent: no budget known).
BudgetsLeft = Callable[[Sequence[str]], dict[str, int]]
# a payment status code ("on_hold") -> its word in the active language.
PaymentWord = Callable[[str], str]
# an audit step's kind and detail -> its words for the timeline (None: not this app's kind).
StepWords = Callable[[str, dict], str | None]
# the people of the demo organisation by username -> nothing (adds the app's demo data).
DemoSeed = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class OpsPanel:
    """A section of /ops/: a template included in templates/approvals/ops.html, which
    reads `panel` (this context)."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TemporalParts:
    """What an app adds to the worker (approvals/worker/worker.py), to the Schedules
    (approvals/temporal/schedules.py) and to `manage.py workflow_versions`."""

    workflows: Sequence[type] = ()
    activities: Sequence[Callable[..., Any]] = ()
    # Django-free workflow packages the sandbox passes through (as approvals.workflow).
    passthrough_modules: Sequence[str] = ()
    schedules: Sequence[ScheduleEntry] = ()
    # Workflow type -> its live patch ids (as approvals/workflow/versions.py: PATCHES).
    patches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Extension:
    """One app's implementations; a hook left None is not implemented by that app."""

    name: str
    # Called when the worker or the schedules are built (imports temporalio and the
    # workflows then, not at start-up).
    temporal_parts: Callable[[], TemporalParts] | None = None
    payment_for: PaymentFor | None = None
    budgets_left: BudgetsLeft | None = None
    payment_word: PaymentWord | None = None
    step_words: StepWords | None = None
    ops_panels: Callable[[], list[OpsPanel]] | None = None
    seed_demo: DemoSeed | None = None


# The hooks of an Extension (every field but its name): each is called by the port
# function of the same name below (tests/payouts/test_ports.py keeps it so).
HOOKS = tuple(f.name for f in fields(Extension) if f.name != "name")

_registry: dict[str, Extension] = {}


def register(extension: Extension) -> None:
    """Plug an app in (from its AppConfig.ready(); registering the same name again
    replaces it, so a second ready() adds nothing twice)."""
    _registry[extension.name] = extension


def extensions() -> list[Extension]:
    return list(_registry.values())


@contextlib.contextmanager
def only(*plugged: Extension) -> Iterator[None]:
    """Tests: the registry holds just `plugged` (none: approvals alone) until the end."""
    saved = dict(_registry)
    _registry.clear()
    for extension in plugged:
        register(extension)
    try:
        yield
    finally:
        _registry.clear()
        _registry.update(saved)


# ----------------------------------------------------------------------- the ports
def temporal_parts() -> list[TemporalParts]:
    """The Temporal parts of every plugged app, in registration order."""
    return [e.temporal_parts() for e in _registry.values() if e.temporal_parts is not None]


def payment_for(request_id: int) -> Any:
    """A request's payment as the payment status template reads it; None: none."""
    for e in _registry.values():
        if e.payment_for is not None and (found := e.payment_for(request_id)) is not None:
            return found
    return None


def budgets_left(usernames: Sequence[str]) -> dict[str, int]:
    """EUR cents left on each requester's budget; a name without a budget is absent."""
    left: dict[str, int] = {}
    for e in _registry.values():
        if e.budgets_left is not None:
            left.update(e.budgets_left(usernames))
    return left


def payment_word(code: str) -> str:
    for e in _registry.values():
        if e.payment_word is not None:
            return e.payment_word(code)
    return code.replace("_", " ")


def step_words(kind: str, detail: dict) -> str | None:
    """An audit step of another app in words (None: no app words this kind)."""
    for e in _registry.values():
        if e.step_words is not None and (words := e.step_words(kind, detail)) is not None:
            return words
    return None


def ops_panels() -> list[OpsPanel]:
    return [panel for e in _registry.values() if e.ops_panels for panel in e.ops_panels()]


def seed_demo(people: Mapping[str, Any]) -> None:
    """Each app's part of the demo organisation, once its people exist (seed_demo)."""
    for e in _registry.values():
        if e.seed_demo is not None:
            e.seed_demo(people)
