"""The API inbox: the page's visibility result (`selectors.inbox_results`: reused until
an event says it changed; when throttled the last good one, `as_of` says how old), page
tokens signed for the caller and the filters exactly as on /inbox/."""

from __future__ import annotations

from decimal import Decimal

from django.core import signing
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from ..labels import ServiceCode
from ..selectors.inbox import decode_page_token, encode_page_token, page_salt
from ..selectors.inbox_results import Filters, PageExpired, inbox_result
from ..services import ServiceError
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
        return Status(400, {"detail": _("That page token is not valid here.")})
    try:
        result = inbox_result(
            user=user,
            token=token,
            filters=Filters(min_amount=min_amount, max_amount=max_amount, overdue=overdue),
        )
    except PageExpired:
        return Status(400, {"detail": _("That page token has expired; start at the first page.")})
    if result.unavailable:
        # Temporal is unreachable: a client retries; throttled is served late (as_of).
        error = ServiceError(ServiceCode.UNAVAILABLE)
        return Status(503, {"code": error.code, "message": error.message})
    rows, next_token = result.rows, result.next_token
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
        "as_of": result.as_of,
        "source": result.source,
    }
