"""Writes about a request's content: submitting it (the workflow starts after commit)."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction

from accounts.models import User

from ..models import ExpenseRequest, RequestStatus
from ..temporal.starter import policy_snapshot, workflow_start_quietly


@transaction.atomic
def expense_submit(
    *,
    requester: User,
    title: str,
    amount: Decimal,
    currency: str,
    category: str,
    description: str = "",
    receipt=None,
    submit_token: uuid.UUID | None = None,
) -> ExpenseRequest:
    """Save the request; its workflow starts after commit (or later, by the reconciler).

    With a `submit_token` (the form's one-time token) the same token from the same
    requester yields the request it first created, however often and however
    concurrently it is posted: the unique constraint decides the race.
    """
    if submit_token is not None:
        existing = _submitted_with(requester, submit_token)
        if existing is not None:
            return existing
    request = ExpenseRequest(
        requester=requester,
        title=title,
        amount=amount,
        currency=currency,
        category=category,
        description=description,
        status=RequestStatus.QUEUED,
        policy_snapshot=dataclasses.asdict(policy_snapshot()),
        submit_token=submit_token,
    )
    if receipt is not None:
        request.receipt = receipt
    # The token's uniqueness is the database's to decide (a check here would race).
    request.full_clean(exclude=["receipt", "submit_token"])
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        if submit_token is None:
            raise
        if request.receipt:
            request.receipt.delete(save=False)  # the loser's copy of the file
        winner = _submitted_with(requester, submit_token)
        if winner is None:
            raise
        return winner
    transaction.on_commit(lambda: workflow_start_quietly(request_id=request.pk))
    return request


def _submitted_with(requester: User, token: uuid.UUID) -> ExpenseRequest | None:
    return ExpenseRequest.objects.filter(requester=requester, submit_token=token).first()
