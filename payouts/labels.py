"""Payout failure codes and statuses in words (EN + DE via gettext); data keeps the codes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .workflow.contract import Failure, PayoutStatus, RunFailure, Step


def failure_text(code: str) -> str:
    words = {
        Failure.NO_COST_CENTRE: _("The requester has no cost centre."),
        Failure.COST_CENTRE_CLOSED: _("The requester's cost centre is closed."),
        Failure.BUDGET_EXCEEDED: _("The cost centre's budget is exceeded."),
        Failure.LEDGER_ACCOUNT_CLOSED: _("A ledger account for this payout is closed."),
        Failure.NO_IBAN: _("The requester has no IBAN on their bank details."),
        Failure.INVALID_IBAN: _("The requester's IBAN is not valid."),
        Failure.INVALID_BIC: _(
            "The requester's BIC is not valid for a SEPA transfer (pain.001 refuses it)."
        ),
        Failure.SEPA_REFUSED: _(
            "The SEPA schema refused the transfer to the requester (check their name and "
            "bank details)."
        ),
        Failure.UNAVAILABLE: _("A system the payout needs was unavailable for too long."),
        Failure.CANCELLED: _("The payout was cancelled."),
    }
    return words.get(code, _("The payout failed (%(code)s).") % {"code": code})


def status_text(status: str) -> str:
    words = {
        PayoutStatus.PROCESSING: _("processing"),
        PayoutStatus.SCHEDULED: _("scheduled"),
        PayoutStatus.ON_HOLD: _("on hold"),
        PayoutStatus.PAID: _("paid"),
        PayoutStatus.FAILED: _("failed"),
    }
    return words.get(status, status)


def run_failure_text(code: str) -> str:
    """Why a payout run wrote no file (a stuck batch on /ops/)."""
    words = {
        RunFailure.COMPANY_ACCOUNT: _(
            "The company's own IBAN or BIC (PAYOUT_COMPANY_IBAN, PAYOUT_COMPANY_BIC) is not "
            "valid for pain.001: fix the setting, then retry."
        ),
        RunFailure.SEPA_INVALID: _("The SEPA schema refused the file as a whole."),
        RunFailure.UNAVAILABLE: _("A system the payout run needs failed (see the details)."),
        "": _("The run stopped before it wrote the file."),
    }
    return words.get(code, _("The payout run failed (%(code)s).") % {"code": code})


def step_text(step: str) -> str:
    words = {
        Step.BUDGET: _("budget reserved on the cost centre"),
        Step.LEDGER: _("ledger lines posted (expense debit, employee payable credit)"),
        Step.BATCH: _("payment added to the payout batch"),
    }
    return words.get(step, step)


def undo_text(step: str) -> str:
    words = {
        Step.BUDGET: _("budget reservation released"),
        Step.LEDGER: _("ledger lines reversed"),
        Step.BATCH: _("payment taken out of the payout batch"),
    }
    return words.get(step, step)


def payout_summary(kind: str, detail: dict) -> str:
    """A payout audit row (payouts/steps.py) in words, for the timeline."""
    values = {"round": detail.get("round", 1)}
    if kind == "payout_step":
        values["what"] = step_text(detail.get("step", ""))
        return _("Payout (attempt %(round)s): %(what)s") % values
    if kind == "payout_compensated":
        values["what"] = undo_text(detail.get("step", ""))
        return _("Payout (attempt %(round)s) compensated: %(what)s") % values
    if kind == "payout_paid":
        values["batch"] = detail.get("batch", "")
        return _("Paid by SEPA credit transfer in payout batch #%(batch)s") % values
    if kind == "payout_on_hold":
        return (
            _(
                "Payout (attempt %(round)s) on hold: the requester's bank details changed and "
                "wait for finance's confirmation"
            )
            % values
        )
    if kind == "payout_released":
        values["by"] = detail.get("by", "")
        return (
            _("Payout (attempt %(round)s) scheduled again: %(by)s confirmed the new bank details")
            % values
        )
    if kind == "payout_failed":
        values["reason"] = failure_text(detail.get("reason", ""))
        return _("Payout (attempt %(round)s) failed: %(reason)s") % values
    return kind
