"""The API inbox: the page's visibility query (`selectors.inbox`), page tokens signed
for the caller and the filters exactly as on /inbox/."""

from __future__ import annotations

from decimal import Decimal

from django.core import signing
from django.utils.translation import gettext as _
from ninja import Query, Router
from temporalio.service import RPCError, RPCStatusCode

from ..labels import ServiceCode
from ..selectors.inbox import (
    decode_page_token,
    encode_page_token,
    inbox_page,
    page_salt,
)
from ..services import ServiceError
from ..temporal.client import TemporalUnavailable
from . import auth
from .requests import COMMON, Refused
from .schemas import InboxPage

router = Router(tags=["inbox"])

MIN_AMOUNT = Query(None, ge=0, max_digits=12, decimal_places=2)
MAX_AMOUNT = Query(None, ge=0, max_digits=12, decimal_places=2)
PAGE = Query("", max_length=2000, description="`next_page` of the previous page")


@router.get(
    "/inbox",
    response={200: InboxPage, **COMMON, 503: Refused},
    auth=auth.READ,
    url_name="api-inbox",
)
def inbox(
    request,
    min_amount: Decimal | None = MIN_AMOUNT,
    max_amount: Decimal | None = MAX_AMOUNT,
    overdue: bool = False,
    page: str = PAGE,
):
    """The decisions waiting for me (and for whom I decide as a delegate), soonest due first."""
    user = request.auth
    filters = {"min_amount": min_amount, "max_amount": max_amount, "overdue": overdue}
    salt = page_salt(user, filters)
    try:
        token = decode_page_token(page, salt=salt)
    except signing.BadSignature:
        return 400, {"detail": _("That page token is not valid here.")}
    def fetch(page_token: bytes | None):
        return inbox_page(
            user=user,
            token=page_token,
            min_amount=min_amount,
            max_amount=max_amount,
            overdue=overdue,
        )

    try:
        try:
            rows, next_token = fetch(token)
        except RPCError as exc:
            if token is None or exc.status != RPCStatusCode.INVALID_ARGUMENT:
                raise
            return 400, {"detail": _("That page token has expired; start at the first page.")}
    except (TemporalUnavailable, RPCError):
        error = ServiceError(ServiceCode.UNAVAILABLE)
        return 503, {"code": error.code, "message": error.message}
    return {
        "rows": [
            {
                "request_id": r.request_id,
                "title": r.title,
                "requester": r.requester,
                "requester_display": r.requester_display,
                "amount_cents": r.amount_cents,
                "currency": r.currency,
                "submitted_at": r.submitted_at,
                "due_at": r.due_at,
                "overdue": r.overdue,
                "pending": r.pending,
                "on_behalf_of": r.on_behalf_of,
            }
            for r in rows
        ],
        "next_page": encode_page_token(next_token, salt=salt),
    }
