"""The inbox page, rendered once per fresh result (issue 28, "Monday morning").

An approver who opens the inbox again while its result is still fresh (no event for
their principals since the visibility call, younger than INBOX_CACHE_MAX_AGE) gets
the page as it was rendered from that same result, without rendering it again:
the template and the page's own queries (lines, flags, budgets, the badge) are most
of a page's CPU, and a web process that renders every view cannot answer a company's
approvers at once on two cores (BENCHMARKS.md).

What makes it safe:
- the key is this session (its key and CSRF cookie, so the forms' tokens stay
  valid for it), the user, the language and time zone, the full URL and the htmx
  target, and the result's version (its stored call and the principals'
  generations): any event for these principals or a new call is another version;
- it is served only after `login_required` passed for this request, never from a
  request with messages to show, and only while the result is fresh;
- every serve gets fresh decision ids (a double-click guard per form, never shared
  between two page loads) and the result's age as of now (`inbox-as-of`, source
  "fresh": a page rendered from a call is reused only while that call is fresh).

What may be older than the rows' stated time, at most INBOX_CACHE_MAX_AGE: a row's
budget left (another report's payout) and "overdue" (a deadline passing).
"""

from __future__ import annotations

import hashlib
import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

from .. import inbox_feed, metrics
from ..selectors.inbox import new_decision_id
from ..selectors.inbox_results import InboxResult

DECISION_ID = re.compile(rb'name="decision_id" value="[0-9a-f-]{36}"')
AGE = re.compile(rb'data-testid="inbox-as-of" data-source="\w+" data-age="\d+"')


def page_key(request: HttpRequest, result: InboxResult) -> str:
    """The key of this page for this session, or "" when it must be rendered anew."""
    if not result.version or result.fresh_for <= 0 or len(messages.get_messages(request)):
        return ""
    session_key = getattr(request.session, "session_key", None)
    if not session_key:
        return ""
    parts = [
        session_key,
        request.COOKIES.get("csrftoken", ""),
        str(request.user.pk),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        result.version,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def served(request: HttpRequest, key: str, result: InboxResult) -> HttpResponse | None:
    """The page rendered before from this result, made current; None if there is none."""
    if not key:
        return None
    try:
        html = inbox_feed.load_page(key)
    except Exception:  # noqa: BLE001 - the shared store away: render the page
        return None
    if html is None:
        metrics.INBOX_PAGES.labels(outcome="rendered").inc()
        return None
    metrics.INBOX_PAGES.labels(outcome="reused").inc()
    html = DECISION_ID.sub(lambda _: b'name="decision_id" value="%s"' % new_id(), html)
    age = b'data-testid="inbox-as-of" data-source="fresh" data-age="%d"' % result.age_seconds
    html = AGE.sub(age, html)
    get_token(request)  # the CSRF cookie stays set, as on a rendered page
    return HttpResponse(html)


def keep(key: str, response: HttpResponse, result: InboxResult) -> None:
    if not key or response.status_code != 200:
        return
    try:
        inbox_feed.save_page(key, response.content, result.fresh_for)
    except Exception:  # noqa: BLE001 - only a cache
        return


def new_id() -> bytes:
    return new_decision_id().encode()
