"""Hostile input: property-based fuzzing (hypothesis) of every form and POST endpoint.

Random text (all of Unicode but surrogates), markup and SQL payloads, NaN,
infinities, huge, tiny and negative numbers, empty and 10,000-character values
go to every form and query string, with Temporal up (and a real pending
request where the view talks to the workflow) and with Temporal unreachable.
The properties: never a 500 (the test client re-raises a view's exception, so
a crash fails with its traceback), and a markup payload that was sent never
comes back unescaped in an HTML answer (nor on the page a redirect leads to).

Each test prints how many examples it ran (pytest -s); RELIABILITY.md keeps
the figures.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from approvals.models import ExpenseRequest
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.servers import temporal_unreachable
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)

XSS = '<script>alert("xss")</script>'
IMG = '"><img src=x onerror=alert(1)>'
MARKUP = (XSS, IMG)
SQL = "'; DROP TABLE approvals_expenserequest; --"
HOSTILE = [
    XSS,
    IMG,
    SQL,
    "' OR '1'='1",
    "{{ request }}{% debug %}",
    "%(title)s %s %d {0}",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "-1",
    "-0",
    "0",
    "0.001",
    "0.005",
    "1e309",
    "-1e309",
    "1e-400",
    "1E+2",
    str(10**30),
    str(-(10**30)),
    "9" * 5000,
    "",
    " ",
    "\t\r\n",
    "\u202egnp.exe",
    "😀" * 50,
    "١٢٣٫٤٥",
    "１２３",
    "1_000",
    "0x10",
    "A" * 10_000,
]
EXAMPLES = {"few": 30, "some": 60, "many": 100}
FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,  # failures print their example; nothing is written into the tree
}

hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=300),
    st.text(st.characters(categories=["Lo", "Mn", "Zs", "Cf", "So", "Nd", "Sm"]), max_size=60),
    st.tuples(st.sampled_from(MARKUP), st.text(max_size=40)).map("".join),
)
numbers = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers().map(str),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats().map(str),
    st.decimals(places=None).map(str),
    st.decimals(min_value=-(10**7), max_value=10**7, places=3).map(str),
    st.text(max_size=20),
)
# Valid amounts often enough that the whole path (save, start, detail page) runs too.
# Grouped the English and the German way too (1,450.00 / 1.450,00: read or refused).
grouped = st.decimals(min_value="0.01", max_value="50000", places=2).map(lambda d: f"{d:,}")
amounts = st.one_of(
    st.decimals(min_value="0.01", max_value="50000", places=2).map(str),
    grouped,
    grouped.map(lambda t: t.translate(str.maketrans(",.", ".,"))),
    numbers,
)
dates = st.one_of(
    st.integers(min_value=-5, max_value=400).map(
        lambda d: str(timezone.localdate() + timedelta(days=d))
    ),
    st.dates().map(str),
    st.dates().map(lambda d: d.strftime("%d.%m.%Y")),
    st.sampled_from(["9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01", "-1", "today"]),
    hostile,
)
receipts = st.one_of(
    st.none(),
    st.builds(
        lambda magic, body, tail, name: SimpleUploadedFile(name, magic + body + tail),
        st.sampled_from([b"", b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"]),
        st.binary(max_size=3000),
        st.sampled_from([b"", b"%%EOF"]),
        st.sampled_from(["r.pdf", "r.png", "r.jpg", "../../etc/passwd", XSS + ".pdf", "x" * 300]),
    ),
)


class Tally:
    """Examples run and statuses seen, per endpoint; printed at the end of a test."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.statuses: dict[str, Counter[int]] = {}

    def add(self, endpoint: str, status: int) -> None:
        self.counts[endpoint] += 1
        self.statuses.setdefault(endpoint, Counter())[status] += 1

    def report(self, title: str) -> None:
        print(f"\n{title}")
        for endpoint, n in self.counts.items():
            print(f"  {endpoint}: {n} examples, statuses {dict(self.statuses[endpoint])}")


def _sent_markup(values) -> list[str]:
    flat: list[str] = []
    for value in values:
        flat.extend(value if isinstance(value, list | tuple) else [value])
    return [m for m in MARKUP if any(isinstance(v, str) and m in v for v in flat)]


def check(response, *sent, tally: Tally | None = None, endpoint: str = "") -> None:
    """Never a 500; no markup we sent comes back raw in HTML."""
    assert response.status_code < 500, response.content[:2000]
    if tally is not None:
        tally.add(endpoint, response.status_code)
    markup = _sent_markup(sent)
    chain = [*(r for r, _ in getattr(response, "redirect_chain", [])), response]
    for answer in chain:
        if not isinstance(answer, str) and "html" in answer.get("Content-Type", ""):
            body = answer.content.decode("utf-8", errors="replace")
            for payload in markup:
                assert payload not in body, f"unescaped {payload!r} in {answer}"


# ------------------------------------------------------------------ submit
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # accepted receipts land here, not in var/


def _submit_form(emma, tally: Tally, label: str):
    client = client_for(emma)

    @settings(max_examples=EXAMPLES["many"], **FUZZ)
    @given(
        title=hostile,
        amount=amounts,
        currency=st.one_of(st.sampled_from(["EUR", "JPY", "CHF", "eur", "XXX"]), hostile),
        category=st.one_of(st.sampled_from(["travel", "other", "meals", "TRAVEL"]), hostile),
        description=hostile,
        receipt=receipts,
        htmx=st.booleans(),
    )
    def run(title, amount, currency, category, description, receipt, htmx):
        data = {
            "title": title,
            "amount": amount,
            "currency": currency,
            "category": category,
            "description": description,
        }
        if receipt is not None:
            data["receipt"] = receipt
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post("/requests/new/", data, headers=headers, follow=not htmx)
        check(response, title, description, category, tally=tally, endpoint=label)
        if response.status_code == 400:
            # The re-rendered form keeps what was typed, escaped.
            assert 'name="title"' in response.content.decode()

    run()


def test_submit_form_survives_hostile_input(demo_org, task_queue, media):
    tally = Tally()
    before = ExpenseRequest.objects.count()
    _submit_form(demo_org["emma"], tally, "POST /requests/new/")
    tally.report("fuzz: submit (Temporal up)")
    # Whatever was accepted was stored whole and bounded; nothing else was. The
    # maximum (1,000,000.00) is in EUR: a JPY amount is bounded by its EUR value.
    for request in ExpenseRequest.objects.all()[:10_000]:
        assert request.amount > 0 and 0 < len(request.title) <= 200
        assert 0 < request.base_amount_cents <= 100_000_000
        assert request.currency != "EUR" or request.amount <= 1_000_000
    print(f"  accepted and stored: {ExpenseRequest.objects.count() - before}")


def test_the_form_shows_markup_in_the_title_as_text(demo_org, task_queue):
    client = client_for(demo_org["emma"])
    response = client.post(
        "/requests/new/",
        {"title": XSS, "amount": "NaN", "currency": "EUR", "category": "travel"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert XSS not in html
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in html
    assert "Enter an amount such as 1,450.00." in html


# ------------------------------------------- decide / withdraw / resubmit
def _pending(emma, amount="300.00") -> ExpenseRequest:
    request = submit(emma, amount, title=f"Fuzz target {uuid.uuid4().hex[:6]}")
    wait_pending_level(request, 1)
    return request


def _request_actions(users, targets, tally: Tally, label: str, examples: int):
    emma, max_, finn = users["emma"], users["max"], users["finn"]
    clients = {"emma": client_for(emma), "max": client_for(max_), "finn": client_for(finn)}
    # The real requests (so the workflow is reached) or numbers no request has, up to
    # beyond PostgreSQL's bigint.
    pk = st.one_of(st.sampled_from(targets), st.sampled_from([0, 999_999, 2**63, 10**25]))

    @settings(max_examples=examples, **FUZZ)
    @given(
        who=st.sampled_from(sorted(clients)),
        pk=pk,
        action=st.one_of(st.sampled_from(["approve", "reject", "request_changes"]), hostile),
        comment=hostile,
        decision_id=st.one_of(st.uuids().map(str), hostile),
        level=numbers,
        override=numbers,
        htmx=st.booleans(),
    )
    def decide(who, pk, action, comment, decision_id, level, override, htmx):
        data = {
            "action": action,
            "comment": comment,
            "decision_id": decision_id,
            "level": level,
            "override": override,
            "next": f"/requests/{pk}/",
        }
        headers = {"HX-Request": "true", "HX-Target": f"row-msg-{pk}"} if htmx else {}
        response = clients[who].post(
            f"/requests/{pk}/decide/", data, headers=headers, follow=not htmx
        )
        check(response, comment, action, tally=tally, endpoint=f"{label} decide")

    @settings(max_examples=examples, **FUZZ)
    @given(
        who=st.sampled_from(["emma", "emma", "max", "finn"]),
        pk=pk,
        title=hostile,
        amount=amounts,
        comment=hostile,
        htmx=st.booleans(),
    )
    def resubmit(who, pk, title, amount, comment, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        response = clients[who].post(
            f"/requests/{pk}/resubmit/",
            {"title": title, "amount": amount, "comment": comment},
            headers=headers,
        )
        check(response, title, comment, tally=tally, endpoint=f"{label} resubmit")

    @settings(max_examples=examples // 2, **FUZZ)
    @given(who=st.sampled_from(["max", "finn"]), pk=pk, junk=hostile, htmx=st.booleans())
    def withdraw_foreign(who, pk, junk, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        response = clients[who].post(f"/requests/{pk}/withdraw/", {"reason": junk}, headers=headers)
        check(response, junk, tally=tally, endpoint=f"{label} withdraw (not requester)")
        if pk in targets:
            assert response.status_code in {403, 404}

    @settings(max_examples=examples, **FUZZ)
    @given(
        ids=st.lists(st.one_of(st.sampled_from(targets).map(str), numbers), max_size=120),
        htmx=st.booleans(),
    )
    def bulk(ids, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        response = clients["max"].post(
            "/inbox/bulk-approve/", {"request_ids": ids}, headers=headers, follow=not htmx
        )
        check(response, ids, tally=tally, endpoint=f"{label} bulk-approve")

    withdraw_foreign()
    resubmit()
    decide()
    bulk()


def test_decisions_withdraw_resubmit_survive_hostile_input(demo_org, worker):
    """On real requests: one pending, one waiting for changes (so resubmit reaches the
    workflow), one for the bulk approval. Refusals change nothing they should not."""
    emma, max_ = demo_org["emma"], demo_org["max"]
    pending = _pending(emma)
    changes = _pending(emma)
    from approvals import services

    services.decision_record(
        request=changes, actor=max_, action="request_changes", comment="Receipt please"
    )
    wait_status(changes, "changes_requested")
    tally = Tally()
    _request_actions(demo_org, [pending.pk, changes.pk], tally, "Temporal up:", EXAMPLES["some"])
    tally.report("fuzz: request actions (Temporal up, worker running)")
    # The workflows still answer and agree with the projection.
    for request in (pending, changes):
        state = services.status_query(request)
        wait_for(lambda r=request, s=state: ExpenseRequest.objects.get(pk=r.pk).status == s.status)


def test_everything_answers_plainly_while_temporal_is_unreachable(
    demo_org, worker, settings, media
):
    emma = demo_org["emma"]
    pending = _pending(emma)
    tally = Tally()
    with temporal_unreachable(settings, call_timeout=1):
        _request_actions(demo_org, [pending.pk], tally, "Temporal down:", EXAMPLES["few"])
        _submit_form(emma, tally, "Temporal down: POST /requests/new/")
        _query_pages(demo_org, pending.pk, tally, "Temporal down:", EXAMPLES["few"])
    tally.report("fuzz: Temporal unreachable")
    pending.refresh_from_db()
    assert pending.status == "pending"  # nothing was applied while it was away


# ------------------------------------------------------------- GET pages
def _query_pages(users, pk: int, tally: Tally, label: str, examples: int):
    max_, admin = client_for(users["max"]), client_for(users["admin"])
    emma = client_for(users["emma"])

    @settings(max_examples=examples, **FUZZ)
    @given(
        min_amount=numbers,
        max_amount=numbers,
        overdue=hostile,
        page=st.one_of(hostile, st.binary(max_size=64).map(lambda b: b.hex())),
        htmx=st.booleans(),
    )
    def inbox(min_amount, max_amount, overdue, page, htmx):
        headers = {"HX-Request": "true", "HX-Target": "inbox-list"} if htmx else {}
        params = {"min_amount": min_amount, "max_amount": max_amount, "overdue": overdue}
        response = max_.get("/inbox/", {**params, "page": page}, headers=headers)
        check(response, min_amount, max_amount, page, tally=tally, endpoint=f"{label} inbox")
        check(max_.get("/inbox/count/"), tally=tally, endpoint=f"{label} inbox count")

    @settings(max_examples=examples, **FUZZ)
    @given(status=hostile, htmx=st.booleans())
    def my_requests(status, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        response = emma.get("/requests/", {"status": status}, headers=headers)
        check(response, status, tally=tally, endpoint=f"{label} requests?status=")
        response = emma.get(f"/requests/{pk}/live/")
        check(response, tally=tally, endpoint=f"{label} request live")

    @settings(max_examples=examples, **FUZZ)
    @given(
        requester=hostile,
        approver=hostile,
        status=hostile,
        min_amount=numbers,
        max_amount=numbers,
        date_from=dates,
        date_to=dates,
        page=numbers,
        tz=st.one_of(st.sampled_from(["Europe/Berlin", "UTC", "Etc/GMT+12"]), hostile),
    )
    def audit(requester, approver, status, min_amount, max_amount, date_from, date_to, page, tz):
        params = {
            "requester": requester,
            "approver": approver,
            "status": status,
            "min_amount": min_amount,
            "max_amount": max_amount,
            "date_from": date_from,
            "date_to": date_to,
            "page": page,
            "tz": tz,
        }
        response = admin.get("/audit/", params)
        check(response, *params.values(), tally=tally, endpoint=f"{label} audit search")
        response = admin.get(f"/audit/{pk}/", {"tz": tz})
        check(response, tz, tally=tally, endpoint=f"{label} audit detail ?tz=")

    inbox()
    my_requests()
    audit()


def test_query_strings_survive_hostile_input(demo_org, worker):
    pending = _pending(demo_org["emma"])
    tally = Tally()
    _query_pages(demo_org, pending.pk, tally, "Temporal up:", EXAMPLES["some"])
    tally.report("fuzz: query strings (Temporal up)")


# ------------------------------------------------------ delegation, login
def test_delegation_and_login_forms_survive_hostile_input(demo_org):
    diana = client_for(demo_org["diana"])
    people = [str(u.pk) for u in demo_org.values()]
    tally = Tally()

    soon = str(timezone.localdate() + timedelta(days=1))

    @settings(max_examples=EXAMPLES["many"], **FUZZ)
    @example(delegate=str(demo_org["victor"].pk), starts_on=soon, ends_on=soon)  # one valid
    @given(
        delegate=st.one_of(st.sampled_from(people), numbers, hostile),
        starts_on=dates,
        ends_on=dates,
    )
    def delegation(delegate, starts_on, ends_on):
        data = {"delegate": delegate, "starts_on": starts_on, "ends_on": ends_on}
        response = diana.post("/accounts/delegation/", data, follow=True)
        check(response, delegate, starts_on, ends_on, tally=tally, endpoint="delegation")

    @settings(max_examples=EXAMPLES["many"], **FUZZ)
    @given(
        pk=st.one_of(st.integers(min_value=1, max_value=60), st.integers(min_value=0)),
        junk=hostile,
    )
    def delegation_end(pk, junk):
        response = diana.post(f"/accounts/delegation/{pk}/end/", {"x": junk})
        check(response, junk, tally=tally, endpoint="delegation end")

    @settings(max_examples=EXAMPLES["many"], **FUZZ)
    @given(
        username=st.one_of(st.sampled_from(["emma", "admin"]), hostile),
        password=st.one_of(st.just("demo"), hostile),
        next_url=st.one_of(
            st.sampled_from(["/inbox/", "//evil.example/", "javascript:1"]), hostile
        ),
    )
    def login(username, password, next_url):
        response = Client().post(
            "/accounts/login/", {"username": username, "password": password, "next": next_url}
        )
        check(response, username, next_url, tally=tally, endpoint="login")
        if response.status_code == 302:
            # Only our own pages: an open redirect would follow `next` off-site.
            target = urlsplit(urljoin("http://testserver/accounts/login/", response["Location"]))
            assert (target.scheme, target.netloc) == ("http", "testserver"), response["Location"]

    delegation()
    delegation_end()
    login()
    tally.report("fuzz: delegation and login")


# ------------------------------------------------- audit timeline, emails
def test_markup_stays_text_in_inbox_audit_timeline_and_emails(demo_org, worker, settings):
    """Markup typed into a title, a description and a decision comment travels through the
    workflow (memo, history, audit table) and the mails, and is shown as text everywhere."""
    from django.core import mail

    from approvals import services

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00", title=XSS, description=IMG)
    wait_pending_level(request, 1)
    escaped_title = "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"

    # The inbox row comes from Temporal's memo, not the database: escaped as well.
    max_web = client_for(max_)
    inbox = wait_for(
        lambda: (lambda r: r if f'data-request-id="{request.pk}"' in r else None)(
            max_web.get("/inbox/").content.decode()
        ),
        message="the request never reached max's inbox",
    )
    assert XSS not in inbox and escaped_title in inbox

    services.decision_record(
        request=request, actor=max_, action="request_changes", comment=f"{IMG} {XSS}"
    )
    wait_status(request, "changes_requested")
    wait_for(lambda: any(IMG in m.body for m in mail.outbox), message="no changes mail")

    for who in (emma, max_):
        page = client_for(who).get(f"/requests/{request.pk}/").content.decode()
        assert XSS not in page and IMG not in page and escaped_title in page

    admin = client_for(demo_org["admin"])
    timeline = admin.get(f"/audit/{request.pk}/")
    assert timeline.status_code == 200
    html = timeline.content.decode()
    assert XSS not in html and IMG not in html
    assert escaped_title in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html  # the comment, as text
    listing = admin.get("/audit/", {"requester": "emma"}).content.decode()
    assert XSS not in listing and escaped_title in listing
    # The JSON download carries the text as data, never as a page.
    download = admin.get(f"/audit/{request.pk}/timeline.json")
    assert download["Content-Type"] == "application/json"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")

    # Mails are plain text with an HTML alternative: the markup is there literally in the
    # text, and escaped in the HTML a mail client renders.
    assert mail.outbox, "no mail was sent"
    for message in mail.outbox:
        assert message.content_subtype == "plain"
        assert XSS in message.subject or XSS in message.body
        ((html, mimetype),) = message.alternatives
        assert mimetype == "text/html"
        assert XSS not in html and IMG not in html and "<script" not in html
        assert escaped_title in html
    print(f"\nmarkup check: {len(mail.outbox)} mails, text plus escaped HTML")
