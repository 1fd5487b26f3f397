"""Activity interfaces: the workflow calls these by reference (typed arguments and
results, names in one place); approvals.worker.activities registers the real
implementations under the same names. Imports no Django."""

from __future__ import annotations

from temporalio import activity

from .contract import (
    Calls,
    MailFailure,
    Managers,
    ManagersRequest,
    Route,
    RouteRequest,
    StepEvent,
    Transition,
)


def _interface(name: str):
    def define(fn):
        return activity.defn(name=name)(fn)

    return define


@_interface(Calls.RESOLVE_ROUTE)
def resolve_route(req: RouteRequest) -> Route:
    raise NotImplementedError  # interface only


@_interface(Calls.RESOLVE_MANAGERS)
def resolve_managers(req: ManagersRequest) -> Managers:
    raise NotImplementedError  # interface only


@_interface(Calls.RECORD_TRANSITION)
def record_transition(t: Transition) -> str | None:  # the audit head (None before issue 31)
    raise NotImplementedError  # interface only


@_interface(Calls.RECORD_FIRST_STEPS)
def record_first_steps(t: Transition) -> list[StepEvent]:
    raise NotImplementedError  # interface only


@_interface(Calls.SEND_NOTIFICATIONS)
def send_notifications(t: Transition) -> None:
    raise NotImplementedError  # interface only


@_interface(Calls.RECORD_MAIL_FAILURE)
def record_mail_failure(f: MailFailure) -> None:
    raise NotImplementedError  # interface only
