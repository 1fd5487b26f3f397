"""The inbox page, rendered once per set of rows (issue 28, "Monday morning").

An approver who opens the inbox again while it shows the same rows (the current
result's rows, after the pushed events are laid over them) gets the page as it was
rendered for those rows, without rendering it again: the template and the page's own
queries (lines, flags, budgets, the badge) are most of a page's CPU, and a web
process that renders every view cannot answer a company's approvers at once on two
cores (BENCHMARKS.md).

What makes it safe:
- the key is this session (its key and CSRF secret, so the forms' tokens stay
  valid for it), the user, the language and time zone, the full URL and the htmx
  target, and the result's version (a digest of the rows it shows, for these
  principals): a row that arrives, leaves or changes is another version, and so is
  a row that became overdue since;
- whether Temporal is unreachable (said on the page) is part of the key; a page is
  served only after `login_required` passed for this request, and never to a
  request with messages;
- every serve gets fresh decision ids (a double-click guard per form, never shared
  between two page loads), the "as of" line of the current result and the list's
  opening tag (which asks again by itself while the result is behind).

What may be older than the "as of" line, at most INBOX_PAGE_MAX_AGE: what the page
reads besides the rows (a row's budget left, after another report's payout; its
lines' receipts and flags change only with an event, which changes the rows).
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .. import inbox_feed, metrics
from ..selectors.inbox import new_decision_id
from ..selectors.inbox_results import InboxResult

DECISION_ID = re.compile(rb'name="decision_id" value="[0-9a-f-]{36}"')
AS_OF = re.compile(rb'<p class="as-of" data-testid="inbox-as-of".*?</p>', re.DOTALL)
LIST_OPEN = re.compile(rb'<div id="inbox-list"[^>]*>')


def page_key(request: HttpRequest, result: InboxResult) -> str:
    """The key of this page for this session, or "" when it must be rendered anew."""
    if not result.version or len(messages.get_messages(request)):
        return ""
    session_key = getattr(request.session, "session_key", None)
    if not session_key:
        return ""
    parts = [
        session_key,
        # The CSRF secret in effect: the cookie's, or the one this response sets (a page
        # kept after its render is found by the next request, which sends that cookie).
        request.META.get("CSRF_COOKIE", ""),
        str(request.user.pk),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        result.version,
        # A row that passed its deadline since is shown as overdue: another page.
        "".join("1" if row.overdue else "0" for row in result.rows),
        # An unreachable server is said on the page (whether the list refreshes itself,
        # for a late result or the record, is made current on each serve, below).
        f"{result.unavailable:d}",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def served(request: HttpRequest, key: str, result: InboxResult) -> HttpResponse | None:
    """The page rendered before for these rows, made current; None if there is none."""
    if not key:
        return None
    try:
        html = inbox_feed.load_page(key)
    except Exception:  # noqa: BLE001 - the shared store away: render the page
        html = None
    if html is None:
        metrics.INBOX_PAGES.labels(outcome="rendered").inc()
        return None
    metrics.INBOX_PAGES.labels(outcome="reused").inc()
    html = DECISION_ID.sub(lambda _: b'name="decision_id" value="%s"' % new_id(), html)
    as_of = render_to_string("approvals/_inbox_as_of.html", {"result": result}, request)
    html = AS_OF.sub(lambda _: as_of.strip().encode(), html, count=1)
    opening = render_to_string(
        "approvals/_inbox_list_open.html",
        {
            "result": result,
            "refresh_query": request.GET.urlencode(),
            "refresh_seconds": int(settings.INBOX_REFRESH_SECONDS),
        },
        request,
    )
    html = LIST_OPEN.sub(lambda _: opening.strip().encode(), html, count=1)
    get_token(request)  # the CSRF cookie stays set, as on a rendered page
    return HttpResponse(html)


def keep(request: HttpRequest, result: InboxResult, response: HttpResponse) -> None:
    """Keep the rendered page under the key the next request of this session will
    have (computed again: the render may have set the CSRF cookie)."""
    key = page_key(request, result)
    if not key or response.status_code != 200:
        return
    try:
        inbox_feed.save_page(key, response.content, float(settings.INBOX_PAGE_MAX_AGE))
    except Exception:  # noqa: BLE001 - only a cache
        return


def new_id() -> bytes:
    return new_decision_id().encode()
