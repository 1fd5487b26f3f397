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
import json
import re

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .. import inbox_feed, metrics
from ..selectors.home import waiting_count
from ..selectors.inbox import new_decision_id
from ..selectors.inbox_results import InboxResult, row_digest

DECISION_ID = re.compile(rb'name="decision_id" value="[0-9a-f-]{36}"')
AS_OF = re.compile(rb'<p class="as-of" data-testid="inbox-as-of".*?</p>', re.DOTALL)
LIST_OPEN = re.compile(rb'<div id="inbox-list"[^>]*>')
COUNT = re.compile(rb'(<span id="inbox-count"[^>]*>)(.*?)(</span></a>)', re.DOTALL)


def page_key(request: HttpRequest, result: InboxResult) -> str:
    """The key of this page for this session, or "" when it must be rendered anew."""
    base = _session_parts(request, result)
    if not base:
        return ""
    parts = [
        *base,
        result.version,
        # A row that passed its deadline since is shown as overdue: another page.
        "".join("1" if row.overdue else "0" for row in result.rows),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _session_parts(request: HttpRequest, result: InboxResult) -> list[str]:
    """What a page of this session is kept under, whatever its rows ([]: never kept)."""
    if not result.version or len(messages.get_messages(request)):
        return []
    session_key = getattr(request.session, "session_key", None)
    if not session_key:
        return []
    return [
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
        # An unreachable server is said on the page (whether the list refreshes itself,
        # for a late result or the record, is made current on each serve, below).
        f"{result.unavailable:d}",
    ]


def _last_key(request: HttpRequest, result: InboxResult) -> str:
    """Where this session's last rendered page of this URL is noted (see `without_rows`)."""
    base = _session_parts(request, result)
    return "last:" + hashlib.sha256("\x1f".join(base).encode()).hexdigest()[:40] if base else ""


def _row_stamps(result: InboxResult) -> list[list]:
    """Each row's id and the digest of what the page shows of it (its overdue badge too)."""
    return [[row.request_id, f"{row_digest(row)}{row.overdue:d}"] for row in result.rows]


def served(request: HttpRequest, key: str, result: InboxResult) -> HttpResponse | None:
    """The page rendered before for these rows, made current; None if there is none."""
    if not key:
        return None
    try:
        html = inbox_feed.load_page(key)
    except Exception:  # noqa: BLE001 - the shared store away: render the page
        html = None
    if html is not None:
        metrics.INBOX_PAGES.labels(outcome="reused").inc()
        return _made_current(request, html, result)
    html = without_rows(request, result)
    if html is None:
        metrics.INBOX_PAGES.labels(outcome="rendered").inc()
        return None
    metrics.INBOX_PAGES.labels(outcome="trimmed").inc()
    response = _made_current(request, html, result)
    _keep_html(request, result, html)
    return response


def without_rows(request: HttpRequest, result: InboxResult) -> bytes | None:
    """This session's last page of this URL without the rows that left since, when that
    is the whole change (the approver's own decision, mostly): the rows still there are
    the same (same digest, same overdue badge, same order), none arrived, one page only
    (no page token, no next page), at least one row left and one stays, no "flagged
    only" filter (its rows are chosen after the page's own reads). The badge's count
    is read again. None: render the page."""
    last = _last_key(request, result)
    if not last or result.next_token or not result.rows or request.GET.get("page"):
        return None
    if request.GET.get("flagged"):
        return None
    try:
        noted = inbox_feed.load_page(last)
        noted = json.loads(noted) if noted else None
        html = inbox_feed.load_page(noted["key"]) if noted else None
    except Exception:  # noqa: BLE001 - only a cache
        return None
    if html is None:
        return None
    now = _row_stamps(result)
    kept = [stamp for stamp in noted["rows"] if stamp[0] in {pk for pk, _ in now}]
    if kept != now or len(kept) == len(noted["rows"]):
        return None
    for pk in {pk for pk, _ in noted["rows"]} - {pk for pk, _ in now}:
        html, found = re.subn(rb"<!--r%d-->.*?<!--/r%d-->" % (pk, pk), b"", html, flags=re.DOTALL)
        if found != 1:
            return None
    count = render_to_string(
        "approvals/_inbox_count.html",
        {"count": waiting_count(request.user, principals=result.principals)},
    )
    return COUNT.sub(lambda m: m.group(1) + count.encode() + m.group(3), html, count=1)


def _made_current(request: HttpRequest, html: bytes, result: InboxResult) -> HttpResponse:
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
    if response.status_code == 200:
        _keep_html(request, result, response.content)


def _keep_html(request: HttpRequest, result: InboxResult, html: bytes) -> None:
    key = page_key(request, result)
    if not key:
        return
    ttl = float(settings.INBOX_PAGE_MAX_AGE)
    note = json.dumps({"key": key, "rows": _row_stamps(result)}).encode()
    try:
        inbox_feed.save_page(key, html, ttl)
        inbox_feed.save_page(_last_key(request, result), note, ttl)
    except Exception:  # noqa: BLE001 - only a cache
        return


def new_id() -> bytes:
    return new_decision_id().encode()
