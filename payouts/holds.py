"""Payments on hold while their payee's bank change waits for a finance member.

accounts sends `bank_details_changed` inside the transaction that changed the details;
`hold_payments` then puts every payment of that person that sits in a batch and is not
in a written file (status scheduled, in an open batch or in a closed one still without
its file) on hold and takes it out of its batch, so no payout run can take it. A payment
still on its way to the batch (processing) is held by `add_to_batch` itself, which asks
`must_hold` first: while a change is unconfirmed, nothing of that person joins a batch.
`bank_change_confirmed` releases them all into the open batch, scheduled again, with the
confirmed details. Each hold and release appends an audit row of the request.

The rows are locked (select_for_update) like write_file locks the batch's payments, so a
change racing a payout run either waits for the file (then those payments are paid to
the old, known account) or holds them before the file step reads them.
"""

from __future__ import annotations

from django.dispatch import receiver

from accounts.bank import normalise
from accounts.models import AccountAuditEntry, User
from accounts.selectors import bank_change_pending
from accounts.signals import bank_change_confirmed, bank_details_changed

from .models import Batch, Payment
from .steps import audit, open_batch, publish
from .workflow.contract import PayoutStatus


def must_hold(user: User | None) -> bool:
    return user is not None and bank_change_pending(user=user) is not None


def hold_payments(*, user: User, change: AccountAuditEntry) -> int:
    """Hold `user`'s scheduled payments not yet in a written file; returns how many."""
    rows = (
        Payment.objects.select_for_update(of=("self",))
        .filter(requester=user.username, status=PayoutStatus.SCHEDULED)
        .select_related("batch")
        .order_by("request_id")
    )
    held = 0
    for payment in rows:
        batch = payment.batch
        if batch is not None and batch.status == Batch.Status.CLOSED and batch.outcome:
            continue  # its file is written: the money left with the old details
        payment.status, payment.batch = PayoutStatus.ON_HOLD, None
        payment.save(update_fields=["status", "batch", "updated_at"])
        detail = {"round": payment.round, "change": change.pk, "batch": batch.pk if batch else None}
        key = f"payout:{payment.round}:hold:{change.pk}"
        audit(payment.request_id, key, "payout_on_hold", detail)
        publish(payment.request_id)
        held += 1
    return held


def release_payments(*, user: User, confirmation: AccountAuditEntry) -> int:
    """After finance confirmed: every held payment of `user` into the open batch."""
    rows = list(
        Payment.objects.select_for_update()
        .filter(requester=user.username, status=PayoutStatus.ON_HOLD)
        .order_by("request_id")
    )
    if not rows:
        return 0
    batch = open_batch()
    for payment in rows:
        payment.status, payment.batch = PayoutStatus.SCHEDULED, batch
        payment.iban, payment.bic = normalise(user.iban), normalise(user.bic)
        payment.save(update_fields=["status", "batch", "iban", "bic", "updated_at"])
        audit(
            payment.request_id,
            f"payout:{payment.round}:release:{confirmation.pk}",
            "payout_released",
            {"round": payment.round, "batch": batch.pk, "by": confirmation.actor_name},
        )
        publish(payment.request_id)
    return len(rows)


@receiver(bank_details_changed, dispatch_uid="payouts.hold_on_bank_change")
def _on_bank_change(sender, *, user: User, change: AccountAuditEntry, **kwargs) -> int:
    return hold_payments(user=user, change=change) if change.needs_confirmation else 0


@receiver(bank_change_confirmed, dispatch_uid="payouts.release_on_confirmation")
def _on_confirmation(sender, *, user: User, confirmation: AccountAuditEntry, **kwargs) -> int:
    return release_payments(user=user, confirmation=confirmation)
