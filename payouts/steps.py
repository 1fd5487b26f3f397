"""The Payout saga's steps and compensations, as the worker's activities run them.

Each function is one activity body: idempotent (its rows are keyed by request,
round and step, with unique constraints), and it raises `Permanent` (turned
into a non-retryable ApplicationError by the activity) for what no retry can
mend; anything else is transient and retried. A compensation returns whether
it undid something, so the saga records only the compensations of the steps
that really happened. Each step and compensation appends an audit row of its
request (kind `payout_step` / `payout_compensated`), shown on /audit/<pk>/.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation

from accounts.bank import bic_valid, iban_valid, normalise
from accounts.language import language_of
from accounts.models import User
from accounts.selectors import admin_usernames
from approvals import audit_chain
from approvals.links import request_url
from approvals.models import AuditEntry, ExpenseRequest, Notification

from .labels import failure_text
from .models import Batch, CostCentre, LedgerAccount, LedgerLine, Payment, Reservation
from .workflow.contract import Failure, Outcome, PayoutStatus, Step, StepInput

log = logging.getLogger(__name__)
EXPENSE_ACCOUNT = ("6000", "Travel and expenses")
PAYABLE_ACCOUNT = ("2100", "Payable to employees")


class Permanent(Exception):
    """A failure no retry mends; `code` is a workflow.contract.Failure code."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def audit(request_id: int, key: str, kind: str, detail: dict, actor: str = "") -> None:
    """Append one audit row of the request, chained (a retry with the same key adds none)."""
    audit_chain.append(
        request_id,
        [
            AuditEntry(
                request_id=request_id,
                key=key[:80],
                at=timezone.now(),
                kind=kind,
                actor_username=actor,
                actor_name=actor,
                actor_role="payout" if not actor else "requester",
                detail=detail,
                source="payout",
            )
        ],
    )


def _done(s: StepInput, step: str, **detail) -> None:
    audit(
        s.request_id,
        f"payout:{s.round}:{step}",
        "payout_step",
        {"step": step, "round": s.round, **detail},
    )


def _undone(s: StepInput, step: str, **detail) -> None:
    audit(
        s.request_id,
        f"payout:{s.round}:undo:{step}",
        "payout_compensated",
        {"step": step, "round": s.round, **detail},
    )


def budget_left(cost_centre: CostCentre) -> int:
    held = (
        Reservation.objects.filter(
            cost_centre=cost_centre, released_at__isnull=True, created_at__year=cost_centre.year
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    return cost_centre.budget_cents - held


# ------------------------------------------------------------------ budget
def _payment(s: StepInput) -> Payment:
    """The request's payment row, at this round (a retry from /ops/ starts it afresh)."""
    with transaction.atomic():
        payment, created = Payment.objects.select_for_update().get_or_create(
            request_id=s.request_id,
            defaults={"requester": s.requester, "amount_cents": s.amount_cents, "round": s.round},
        )
        if not created and payment.round < s.round:
            payment.round, payment.status, payment.reason = s.round, PayoutStatus.PROCESSING, ""
            payment.batch = None
            payment.save(update_fields=["round", "status", "reason", "batch", "updated_at"])
    return payment


def reserve_budget(s: StepInput) -> None:
    _payment(s)  # committed on its own: a failed reservation still shows as a failed payment
    with transaction.atomic():
        if Reservation.objects.filter(request_id=s.request_id, round=s.round).exists():
            return  # reserved by an earlier attempt
        user = User.objects.filter(username=s.requester).first()
        if user is None or user.cost_centre_id is None:
            raise Permanent(Failure.NO_COST_CENTRE)
        centre = CostCentre.objects.select_for_update().get(pk=user.cost_centre_id)
        if centre.closed:
            raise Permanent(Failure.COST_CENTRE_CLOSED, cost_centre=centre.code)
        left = budget_left(centre)
        if s.amount_cents > left:
            raise Permanent(Failure.BUDGET_EXCEEDED, cost_centre=centre.code, left_cents=left)
        Reservation.objects.create(
            request_id=s.request_id, round=s.round, cost_centre=centre, amount_cents=s.amount_cents
        )
        _done(s, Step.BUDGET, cost_centre=centre.code, amount_cents=s.amount_cents)


def release_budget(s: StepInput) -> bool:
    with transaction.atomic():
        released = Reservation.objects.filter(
            request_id=s.request_id, round=s.round, released_at__isnull=True
        ).update(released_at=timezone.now())
        if released:
            _undone(s, Step.BUDGET, amount_cents=s.amount_cents)
    return bool(released)


# ------------------------------------------------------------------ ledger
def _account(code_name: tuple[str, str]) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        code=code_name[0], defaults={"name": code_name[1]}
    )
    return account


def post_ledger(s: StepInput) -> None:
    expense, payable = _account(EXPENSE_ACCOUNT), _account(PAYABLE_ACCOUNT)
    with transaction.atomic():
        key = {"request_id": s.request_id, "round": s.round, "kind": LedgerLine.Kind.POST}
        if LedgerLine.objects.filter(**key).exists():
            return  # posted by an earlier attempt (both lines commit together)
        for account in (expense, payable):
            if LedgerAccount.objects.select_for_update().get(pk=account.pk).closed:
                raise Permanent(Failure.LEDGER_ACCOUNT_CLOSED, account=account.code)
        LedgerLine.objects.create(**key, account=expense, debit_cents=s.amount_cents)
        LedgerLine.objects.create(**key, account=payable, credit_cents=s.amount_cents)
        _done(s, Step.LEDGER, debit=expense.code, credit=payable.code, amount_cents=s.amount_cents)


def reverse_ledger(s: StepInput) -> bool:
    """The reversal: the opposite lines (a ledger is never edited). Even on a closed account."""
    with transaction.atomic():
        posted = list(
            LedgerLine.objects.select_for_update().filter(
                request_id=s.request_id, round=s.round, kind=LedgerLine.Kind.POST
            )
        )
        key = {"request_id": s.request_id, "round": s.round, "kind": LedgerLine.Kind.REVERSAL}
        if not posted or LedgerLine.objects.filter(**key).exists():
            return False
        for line in posted:
            LedgerLine.objects.create(
                **key,
                account_id=line.account_id,
                debit_cents=line.credit_cents,
                credit_cents=line.debit_cents,
            )
        _undone(s, Step.LEDGER, amount_cents=s.amount_cents)
    return True


# ------------------------------------------------------------------- batch
def open_batch() -> Batch:
    """The open batch, locked (made when there is none; one open batch at a time)."""
    for _try in range(3):
        batch = Batch.objects.select_for_update().filter(status=Batch.Status.OPEN).first()
        if batch is not None:
            return batch
        try:
            with transaction.atomic():
                return Batch.objects.create()
        except IntegrityError:
            continue  # another payout opened it at the same moment
    raise RuntimeError("no open payout batch")  # transient: retried


def add_to_batch(s: StepInput) -> None:
    """Into the open batch, scheduled; or on hold (no batch) while the payee's bank
    change waits for finance (payouts/holds.py releases it into the batch)."""
    user = User.objects.filter(username=s.requester).first()
    iban = normalise(user.iban if user else "")
    if not iban:
        raise Permanent(Failure.NO_IBAN)
    if not iban_valid(iban):
        raise Permanent(Failure.INVALID_IBAN)
    if user.bic and not bic_valid(user.bic):
        raise Permanent(Failure.INVALID_BIC)
    from .holds import must_hold  # holds imports this module

    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=user.pk)  # orders us with a change
        payment = Payment.objects.select_for_update().get(request_id=s.request_id)
        if payment.batch_id is not None or payment.status == PayoutStatus.ON_HOLD:
            return  # added (or held) by an earlier attempt
        if must_hold(person):
            payment.status = PayoutStatus.ON_HOLD
            payment.iban, payment.bic = normalise(person.iban), normalise(person.bic)
            payment.save(update_fields=["status", "iban", "bic", "updated_at"])
            _done(s, Step.BATCH, on_hold=True)
            publish(s.request_id)
            return
        batch = open_batch()
        payment.batch, payment.status = batch, PayoutStatus.SCHEDULED
        payment.iban, payment.bic = iban, normalise(user.bic)
        payment.save(update_fields=["batch", "status", "iban", "bic", "updated_at"])
        _done(s, Step.BATCH, batch=batch.pk)
        publish(s.request_id)


def remove_from_batch(s: StepInput) -> bool:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(request_id=s.request_id).first()
        if payment is None or payment.batch_id is None or payment.status == PayoutStatus.PAID:
            return False
        batch = payment.batch_id
        payment.batch, payment.status = None, PayoutStatus.PROCESSING
        payment.save(update_fields=["batch", "status", "updated_at"])
        _undone(s, Step.BATCH, batch=batch)
        publish(s.request_id)
    return True


# ----------------------------------------------------------------- outcome
def record_outcome(o: Outcome) -> None:
    """Mark the payment failed with its code; tell the requester and the admins (once)."""
    with transaction.atomic():
        Payment.objects.filter(request_id=o.request_id).update(
            status=o.status, reason=o.reason, batch=None, updated_at=timezone.now()
        )
        audit(
            o.request_id,
            f"payout:{o.round}:failed",
            "payout_failed",
            {"round": o.round, "reason": o.reason, "compensated": o.compensated},
        )
        publish(o.request_id)
    _tell_failure(o)


def _tell_failure(o: Outcome) -> None:
    request = ExpenseRequest.objects.filter(pk=o.request_id).select_related("requester").first()
    if request is None:
        return
    names = [request.requester.username, *admin_usernames()]
    key = f"payout:{o.round}:failed"
    link = request_url(o.request_id)
    for user in User.objects.filter(username__in=names, is_active=True):
        if Notification.objects.filter(request=request, key=key, recipient=user.username).exists():
            continue
        with translation.override(language_of(user)):
            subject = translation.gettext("The payout of expense request #%(id)s failed") % {
                "id": o.request_id
            }
            body = f"{subject}: {failure_text(o.reason)}\n\n{link}\n"
        if user.email:
            try:
                send_mail(subject, body, None, [user.email])
            except Exception as exc:  # noqa: BLE001 - a refused mail never blocks the outcome
                # Recorded for /ops/ (resend there); retrying this activity would not mend it.
                from approvals.effects.notifications import Mail, record_failure

                record_failure(
                    request_id=o.request_id,
                    key=key,
                    recipient=user.username,
                    cause=str(exc) or type(exc).__name__,
                    mail=Mail(subject=subject, body=body, html=""),
                )
                continue
        try:
            with transaction.atomic():
                Notification.objects.create(request=request, key=key, recipient=user.username)
        except IntegrityError:
            pass


def publish(request_id: int) -> None:
    """Tell the requester's open pages (after commit) that the payment changed."""

    def send() -> None:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        owner = ExpenseRequest.objects.filter(pk=request_id).values_list("requester_id", flat=True)
        if layer is None or not owner:
            return
        try:
            async_to_sync(layer.group_send)(
                f"user.{owner[0]}", {"type": "payout.changed", "request_id": request_id}
            )
        except Exception:  # noqa: BLE001 - a live push is a courtesy: the page reloads anyway
            log.warning("could not push the payout of request %s", request_id, exc_info=True)

    transaction.on_commit(send)
