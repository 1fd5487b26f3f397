"""Writes about a request's content: submitting it (the workflow starts after commit)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.db import transaction

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
) -> ExpenseRequest:
    """Save the request; its workflow starts after commit (or later, by the reconciler)."""
    request = ExpenseRequest(
        requester=requester,
        title=title,
        amount=amount,
        currency=currency,
        category=category,
        description=description,
        status=RequestStatus.QUEUED,
        policy_snapshot=dataclasses.asdict(policy_snapshot()),
    )
    if receipt is not None:
        request.receipt = receipt
    request.full_clean(exclude=["receipt"])
    request.save()
    transaction.on_commit(lambda: workflow_start_quietly(request_id=request.pk))
    return request
