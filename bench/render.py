"""What rendering the inbox costs, without HTTP, Temporal or a database.

    .venv/bin/python bench/render.py [ROWS] [ROUNDS] [LINES]

Renders `approvals/inbox.html` with ROWS (25) fixed rows like the view does
(production settings: DEBUG off, cached template loader), then the row
partial alone ROWS times, then a *lean* variant of the row (in this script
only) that takes its labels once per page and the row's pre-formatted fields
(`InboxRow.amount_text`, `due_iso`, `due_text`) and leaves out the row's
conditional parts: a floor for what the template itself costs. The shipped row
does the same per-row work since issue 18's round 2 (BENCHMARKS.md, item 7), so
`inbox.html, ROWS rows` minus `0 rows` should sit near the lean line. Prints ms
per page (p50 of ROUNDS). LINES (default 0) gives every row that many report lines
with receipts (the row's <details>, issue 26), as views/inbox.py attaches them.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEAN_ROW = (
    '<div class="row{% if row.overdue %} overdue{% endif %}" id="inbox-row-{{ row.request_id }}"'
    ' data-testid="inbox-row" data-request-id="{{ row.request_id }}" data-due="{{ row.due_iso }}">'
    '<div class="row-main"><input type="checkbox" name="request_ids" value="{{ row.request_id }}"'
    ' form="bulk-form" data-testid="select" aria-label="{{ labels.select }} {{ row.request_id }}">'
    '<a href="{{ row.detail_url }}" data-testid="open">#{{ row.request_id }} {{ row.title }}</a>'
    '<span class="num" data-testid="row-amount">{{ row.amount_text }}</span>'
    "<span>{{ row.requester_display }}</span>"
    '{% if row.due_iso %}<span class="due">{{ labels.due }} <time datetime="{{ row.due_iso }}">'
    "{{ row.due_text }}</time></span>{% endif %}"
    '<button type="button" class="secondary" data-testid="row-live" hx-get="{{ row.live_url }}"'
    ' hx-target="#row-live-{{ row.request_id }}" hx-swap="innerHTML">{{ labels.live }}</button>'
    '</div><div id="row-live-{{ row.request_id }}"></div>'
    '<form method="post" action="{{ row.decide_url }}" class="decision"'
    ' hx-post="{{ row.decide_url }}"'
    ' hx-target="#row-msg-{{ row.request_id }}" hx-swap="innerHTML">{{ csrf_input }}'
    '<input type="hidden" name="decision_id" value="{{ new_decision_id }}">'
    '<input type="text" name="comment" maxlength="2000" placeholder="{{ labels.comment_hint }}"'
    ' aria-label="{{ labels.comment }}">'
    '<button name="action" value="approve" data-testid="approve">{{ labels.approve }}</button>'
    '<button name="action" value="reject" data-testid="reject">{{ labels.reject }}</button>'
    '<button name="action" value="request_changes" data-testid="request-changes">'
    "{{ labels.changes }}</button></form>"
    '<div id="row-msg-{{ row.request_id }}" class="row-msg" aria-live="assertive"></div></div>'
)


LABELS = {
    "select": "Select request %(id)s",
    "due": "due",
    "live": "Live state",
    "comment_hint": "Comment (required to reject)",
    "comment": "Comment",
    "approve": "Approve",
    "reject": "Reject",
    "changes": "Request changes",
}


def setup() -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY="render-bench-" + "x" * 50,
        TEMPORAL_PAYLOAD_KEYS="render:" + "A" * 43 + "=",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def p50(fn, rounds: int) -> float:
    for _ in range(5):
        fn()
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return 1000 * statistics.median(samples)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    per_row = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    setup()
    from django.middleware.csrf import get_token
    from django.template import engines
    from django.template.loader import get_template, render_to_string
    from django.test import RequestFactory
    from django.utils import translation
    from django.utils.html import format_html
    from django.utils.translation import gettext as _

    from accounts.models import User
    from approvals.forms.inbox import InboxFilterForm
    from approvals.selectors.inbox import InboxRow, new_decision_id

    due = datetime.now(UTC) + timedelta(days=2)
    rows = [
        InboxRow(
            request_id=1000 + i,
            title=f"Conference trip {i}",
            requester_display="Emma Engel",
            requester="emma",
            amount_cents=123456 + i,
            currency="EUR",
            submitted_at=datetime.now(UTC).isoformat(),
            due_at=due,
            pending=["max"],
            # As on the bench's pages: every requester has a cost centre.
            budget_left_cents=5_000_000 - 100 * i,
        )
        for i in range(n)
    ]
    grouped = None
    if per_row:  # the lines the view's one query would give (no database here)
        from decimal import Decimal

        from approvals.models import ExpenseLine

        grouped = {
            row.request_id: [
                ExpenseLine(
                    request_id=row.request_id,
                    position=k,
                    date=due.date(),
                    merchant=f"Merchant {k}",
                    category="travel",
                    amount=Decimal("38.50"),
                    currency="EUR",
                    base_amount_cents=3850,
                    receipt=f"receipts/2026/12/r{k}.png",
                )
                for k in range(1, per_row + 1)
            ]
            for row in rows
        }
    request = RequestFactory().get("/inbox/")
    request.user = User(username="max", first_name="Max")
    request.htmx = False
    request.session = {}
    context = {
        "rows": rows,
        "filter_form": InboxFilterForm({}),
        "error": "",
        "next_page": "",
        "first_page": None,
        "live_insert": True,
        "new_decision_id": new_decision_id,
        # What the context processor would read from the database (the badge's count,
        # whether the menu lists API tokens): fixed here, this bench has no database.
        "inbox_waiting": len(rows),
        "uses_tokens": False,
    }
    page = get_template("approvals/inbox.html")
    row_template = get_template("approvals/_inbox_row.html")
    lean = engines["django"].from_string(LEAN_ROW)
    results = {}
    for lang in ("en", "de"):
        with translation.override(lang):
            if grouped is not None:
                from approvals.selectors.lines import attach_lines

                attach_lines(rows, grouped)  # as views/inbox.py does, in the reader's language
            get_token(request)
            results[f"inbox.html, {n} rows ({lang})"] = p50(
                lambda: page.render(context, request), rounds
            )
            results[f"inbox.html, 0 rows ({lang})"] = p50(
                lambda: page.render({**context, "rows": []}, request), rounds
            )
            results[f"_inbox_row.html × {n} ({lang})"] = p50(
                lambda: [row_template.render({**context, "row": r}, request) for r in rows],
                rounds,
            )
            # The row's own msgids (no new ones: this file is in the catalog's sources).
            labels = {key: _(msgid) for key, msgid in LABELS.items()}
            token = get_token(request)
            csrf_input = format_html(
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token
            )

            def lean_rows(labels=labels, csrf_input=csrf_input):
                base = {"labels": labels, "csrf_input": csrf_input}
                base["new_decision_id"] = new_decision_id
                return [lean.render({**base, "row": r}, request) for r in rows]

            results[f"lean row (pre-formatted fields, labels once) × {n} ({lang})"] = p50(
                lean_rows, rounds
            )
    del render_to_string
    width = max(len(k) for k in results)
    for name, ms in results.items():
        print(f"{name:<{width}}  {ms:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
