"""Names and dataclasses of the Payout saga and the PayoutRun workflow. Imports no Django.

What the approval workflow hands over when it starts the Payout child (the workflow
type, `PayoutInput`, `payout_id`) is the approval side's outgoing contract, kept in
approvals/workflow/handoff.py and re-exported here.

Every dataclass field added later must have a default (old payloads must decode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Re-exported (the redundant aliases say so): the saga's code reads them from here.
from approvals.workflow.handoff import PAYOUT_WORKFLOW as PAYOUT_WORKFLOW
from approvals.workflow.handoff import PayoutInput as PayoutInput
from approvals.workflow.handoff import payout_id as payout_id

PAYOUT_RUN_WORKFLOW = "PayoutRun"
PAYOUT_RUN_SCHEDULE_ID = "approvals-payout-run"
SETTLE_SIGNAL = "settle"
GET_PAYOUT = "get_payout"


class Step:
    """The saga's steps, in order; each has a compensation of the same name."""

    BUDGET = "budget"
    LEDGER = "ledger"
    BATCH = "batch"
    FILE = "file"  # the payout run's part: the SEPA file (its failure is signalled)
    ORDER = (BUDGET, LEDGER, BATCH)


class PayoutStatus:
    PROCESSING = "processing"
    SCHEDULED = "scheduled"
    # Written by activities only (the saga's state stays "scheduled"): the payee's bank
    # details changed and finance has not confirmed yet; no payout run takes it.
    ON_HOLD = "on_hold"
    PAID = "paid"
    FAILED = "failed"


class Failure:
    """Why a payout failed: codes in data, words in payouts/labels.py (EN + DE)."""

    NO_COST_CENTRE = "no_cost_centre"
    COST_CENTRE_CLOSED = "cost_centre_closed"
    BUDGET_EXCEEDED = "budget_exceeded"
    LEDGER_ACCOUNT_CLOSED = "ledger_account_closed"
    NO_IBAN = "no_iban"
    INVALID_IBAN = "invalid_iban"
    INVALID_BIC = "invalid_bic"
    SEPA_REFUSED = "sepa_refused"  # the pain.001 schema refused this payee's transfer
    UNAVAILABLE = "unavailable"  # transient errors outlasted the retries
    CANCELLED = "cancelled"
    PERMANENT = (
        NO_COST_CENTRE,
        COST_CENTRE_CLOSED,
        BUDGET_EXCEEDED,
        LEDGER_ACCOUNT_CLOSED,
        NO_IBAN,
        INVALID_IBAN,
        INVALID_BIC,
        SEPA_REFUSED,
    )


class RunFailure:
    """Why a payout run could write no file at all (the batch waits on /ops/)."""

    COMPANY_ACCOUNT = "company_account_invalid"  # PAYOUT_COMPANY_IBAN / _BIC
    SEPA_INVALID = "sepa_invalid"  # the file as a whole was refused
    UNAVAILABLE = "unavailable"  # a transient error (the last attempt's)


class PayoutCalls:
    RESERVE_BUDGET = "payout_reserve_budget"
    RELEASE_BUDGET = "payout_release_budget"
    POST_LEDGER = "payout_post_ledger"
    REVERSE_LEDGER = "payout_reverse_ledger"
    ADD_TO_BATCH = "payout_add_to_batch"
    REMOVE_FROM_BATCH = "payout_remove_from_batch"
    RECORD_OUTCOME = "payout_record_outcome"
    CLOSE_BATCH = "payout_close_batch"
    WRITE_FILE = "payout_write_file"


@dataclass
class StepInput:
    request_id: int
    round: int
    requester: str
    amount_cents: int
    step: str = ""


@dataclass
class Settle:
    """The payout run's word on one payment (signal), carrying the run's own id."""

    run_id: str
    batch_id: int
    paid: bool
    reason: str = ""


@dataclass
class Outcome:
    request_id: int
    round: int
    status: str
    reason: str = ""
    run_id: str = ""
    compensated: list[str] = field(default_factory=list)


@dataclass
class PayoutRunInput:
    period: str = ""  # empty: from the scheduled start time (or the run's start time)


@dataclass
class CloseRequest:
    period: str
    run_id: str


@dataclass
class Closed:
    batch_id: int | None
    request_ids: list[int] = field(default_factory=list)


@dataclass
class FailedPayment:
    request_id: int
    reason: str


@dataclass
class FileResult:
    batch_id: int
    paid: list[int] = field(default_factory=list)
    failed: list[FailedPayment] = field(default_factory=list)


@dataclass
class RunResult:
    period: str
    batch_id: int | None
    paid: list[int] = field(default_factory=list)
    failed: list[FailedPayment] = field(default_factory=list)
