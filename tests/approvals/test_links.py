"""Deciding from a mail: signed links, a confirmation page, the decision by Signal.

Real dev server and worker; the mails are the ones the worker's activity sent
(locmem backend); every link is taken from a mail, never built by the test
(except the expired one, re-signed an hour ago).
"""

from __future__ import annotations

import base64
import re
import time
import zlib
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import timezone

from accounts import services as people_services
from accounts.models import Delegation
from approvals import links, services
from approvals.models import AuditEntry, ExpenseRequest
from tests.support.requests import (
    state_of,
    submit,
    wait_closed,
    wait_pending_level,
)
from tests.support.servers import temporal_unreachable
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)

LINE = re.compile(r"^(Approve|Reject) level (\d+): (\S+)$", re.MULTILINE)


def mailed_link(outbox, user, action: str = "approve", level: int = 1) -> str:
    """The path of `user`'s `action` link for `level` from the newest mail that has one."""
    word = {"approve": "Approve", "reject": "Reject"}[action]

    def find():
        for message in reversed(outbox):
            if user.email not in message.to:
                continue
            for found_word, found_level, url in LINE.findall(message.body):
                if found_word == word and int(found_level) == level:
                    return url
        return None

    url = wait_for(find, message=f"no {action} link for {user.username} at level {level}")
    assert url.startswith("http://testserver/links/") or "/links/" in url
    return "/links/" + url.split("/links/", 1)[1]


@pytest.fixture(autouse=True)
def _mail(settings, mailoutbox):
    settings.APP_BASE_URL = "http://testserver"
    return mailoutbox


def outcome(response) -> tuple[str, str]:
    html = response.content.decode()
    match = re.search(r'data-testid="link-outcome" data-kind="(\w+)"', html)
    return (match.group(1) if match else "", html)


def test_approve_link_end_to_end(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00", title="Conference ticket")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    web = client_for(max_)

    page = web.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="confirm"' in html
    assert "Conference ticket" in html and "300.00 EUR" in html and "Emma Engel" in html
    assert 'data-testid="link-level">1<' in html
    assert state_of(request).decisions == []

    done = web.post(path)
    kind, html = outcome(done)
    assert done.status_code == 200 and kind == "applied", html
    assert "Your approval of level 1 was recorded." in html
    state = wait_closed(request, "approved")
    (decision,) = state.decisions
    assert (decision.actor, decision.action, decision.channel) == ("max", "approve", "signal")
    claim, expired = links.read_token(path.split("/")[2])
    assert decision.decision_id == claim.decision_id and not expired


def test_the_mail_has_both_links_in_text_and_an_escaped_html_alternative(
    demo_org, worker, mailoutbox
):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00", title='<b>"Fish" & chips</b>')
    wait_pending_level(request, 1)
    approve, reject = mailed_link(mailoutbox, max_), mailed_link(mailoutbox, max_, "reject")
    (message,) = [m for m in mailoutbox if max_.email in m.to]
    assert isinstance(message, EmailMultiAlternatives)
    assert '<b>"Fish" & chips</b>' in message.body  # plain text: literally
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert '<b>"Fish"' not in html and "&lt;b&gt;&quot;Fish&quot; &amp; chips&lt;/b&gt;" in html
    assert f'href="http://testserver{approve}"' in html
    assert f'href="http://testserver{reject}"' in html
    # One decision id per mail: whichever link is used first decides.
    a, _ = links.read_token(approve.split("/")[2])
    r, _ = links.read_token(reject.split("/")[2])
    assert a.decision_id == r.decision_id and (a.action, r.action) == ("approve", "reject")
    assert (a.username, a.request_id, a.level, a.round) == ("max", request.pk, 1, 1)
    # The requester's mails never carry decision links.
    assert all(emma.email not in m.to or "/links/" not in m.body for m in mailoutbox)


def test_reject_link_asks_for_the_comment_then_rejects(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_, "reject")
    web = client_for(max_)
    page = web.get(path).content.decode()
    assert 'name="comment"' in page and "required" in page

    empty = web.post(path, {"comment": "   "})
    assert empty.status_code == 400
    assert "A comment is required to reject" in empty.content.decode()
    state = state_of(request)
    assert state.status == "pending" and state.ignored_signals == []  # nothing was sent

    done = web.post(path, {"comment": "Not in this quarter's budget"})
    kind, html = outcome(done)
    assert kind == "applied", html
    assert "Your rejection at level 1 was recorded." in html
    state = wait_closed(request, "rejected")
    assert state.decisions[-1].comment == "Not in this quarter's budget"
    assert state.decisions[-1].channel == "signal"


def test_a_replayed_link_applies_nothing_and_shows_the_outcome(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "5000.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    web = client_for(max_)
    assert outcome(web.post(path))[0] == "applied"
    wait_pending_level(request, 2)

    again = web.post(path)  # a double click, a retried POST, the back button
    kind, html = outcome(again)
    assert again.status_code == 200 and kind == "applied", html
    assert "The request is now waiting at level 2." in html
    later = web.get(path)
    assert outcome(later)[0] == "applied" and 'data-testid="confirm"' not in later.content.decode()
    state = state_of(request)
    assert [d.actor for d in state.decisions] == ["max"]
    assert state.ignored_signals == []
    assert state.current_level == 2 and state.pending_approvers == ["diana"]


def test_opening_a_link_changes_nothing(demo_org, worker, mailoutbox):
    """Mail scanners and previews fetch links: a GET, signed in or not, decides nothing."""
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    scanner = Client().get(path)
    assert scanner.status_code == 302 and scanner["Location"].startswith("/accounts/login/")
    web = client_for(max_)
    for _ in range(3):
        assert 'data-testid="confirm"' in web.get(path).content.decode()
    web.head(path)
    state = state_of(request)
    assert state.status == "pending" and state.decisions == [] and state.ignored_signals == []
    assert not AuditEntry.objects.filter(request=request, kind="signal_ignored").exists()


def test_signing_in_from_a_link_comes_back_to_it(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    browser = Client()
    to_login = browser.get(path)
    assert to_login["Location"] == f"/accounts/login/?next={path.replace(':', '%3A')}" or (
        "next=" in to_login["Location"]
    )
    signed_in = browser.post(
        "/accounts/login/", {"username": "max", "password": "demo", "next": path}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == path
    assert 'data-testid="confirm"' in browser.get(path).content.decode()


def test_someone_elses_link_is_refused_plainly(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00", title="Secret offsite")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    for who in ("diana", "admin", "emma"):
        web = client_for(demo_org[who])
        for response in (web.get(path), web.post(path, {"comment": "x"})):
            html = response.content.decode()
            assert response.status_code == 403
            assert 'data-reason="not_yours"' in html
            main = html.split("<main>", 1)[1]
            assert "Secret offsite" not in main and "300" not in main, (who, main)
    state = state_of(request)
    assert state.decisions == [] and state.ignored_signals == []


def test_a_link_for_a_level_that_moved_on_shows_who_decided(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "5000.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    services.decision_record(request=request, actor=max_, action="approve")  # from the inbox
    wait_pending_level(request, 2)
    web = client_for(max_)
    for response in (web.get(path), web.post(path)):
        kind, html = outcome(response)
        assert response.status_code == 200 and kind == "moved_on", html
        assert "Level 1 was approved by Max Müller." in html
        assert "The request is now waiting at level 2." in html
        assert 'data-testid="confirm"' not in html
    state = state_of(request)
    assert len(state.decisions) == 1 and state.ignored_signals == []


def test_a_link_to_a_closed_request_says_so(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_, "reject")
    services.expense_withdraw(request=request, actor=emma, reason="Paid privately")
    wait_closed(request, "withdrawn")
    web = client_for(max_)
    for response in (web.get(path), web.post(path, {"comment": "too late"})):
        kind, html = outcome(response)
        assert response.status_code == 200 and kind == "moved_on", html
        assert "The request is withdrawn." in html
        assert 'data-testid="status"' in html
    assert state_of(request).ignored_signals == []


def test_a_tampered_link_is_refused_and_decides_nothing(demo_org, worker, mailoutbox):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    token = path.split("/")[2]
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    forged = [
        f"{token[:middle]}{flipped}{token[middle + 1 :]}",
        token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        "not-a-token",
        token[:middle],
        "A" * 12,
    ]
    web = client_for(max_)
    for bad in forged:
        for response in (web.get(f"/links/{bad}/"), web.post(f"/links/{bad}/")):
            assert response.status_code == 400, bad
            assert 'data-reason="invalid"' in response.content.decode()
    state = state_of(request)
    assert state.decisions == [] and state.ignored_signals == []


def test_a_link_is_opaque_and_survives_a_key_rotation(settings):
    """Whoever reads a link (a forwarded mail, a proxy log) learns nothing of the request
    or of its decision id, and cannot lift the id out to reuse it elsewhere; a token made
    under the previous SECRET_KEY still opens after a rotation, one made under another
    key never does."""
    claim = links.LinkClaim(
        username="maria", request_id=24, level=2, round=1, action="approve",
        decision_id="8d7f6a5e-1111-4222-8333-944455556666",
    )  # fmt: skip
    token = links.make_token(claim)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret in (b"maria", b"approve", b"8d7f6a5e", b'"r":24'):
        assert secret not in raw
        assert secret.decode() not in token
    with pytest.raises(zlib.error):
        zlib.decompress(raw)
    assert links.make_token(claim) != token  # a fresh nonce each time
    assert links.read_token(token) == (claim, False)

    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 50, [old_key]
    assert links.read_token(token) == (claim, False)
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(links.LinkInvalid):
        links.read_token(token)


def test_an_expired_link_shows_the_request_and_decides_nothing(
    demo_org, worker, mailoutbox, settings, monkeypatch
):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    claim, _ = links.read_token(mailed_link(mailoutbox, max_).split("/")[2])
    old = links.make_token(claim, now=time.time() - 3600)
    settings.DECISION_LINK_MAX_AGE = 60
    web = client_for(max_)
    for response in (web.get(f"/links/{old}/"), web.post(f"/links/{old}/")):
        kind, html = outcome(response)
        assert response.status_code == 200 and kind == "moved_on", html
        assert "This link has expired." in html
        assert "The request is now waiting at level 1." in html
        assert 'data-testid="confirm"' not in html
    state = state_of(request)
    assert state.decisions == [] and state.ignored_signals == []


def test_link_max_age_defaults_to_the_sla_times_escalations_plus_one(settings):
    settings.DECISION_LINK_MAX_AGE = 0
    settings.APPROVAL_SLA_SECONDS, settings.APPROVAL_MAX_ESCALATIONS = 3600, 2
    assert links.max_age() == 3 * 3600
    settings.DECISION_LINK_MAX_AGE = 90
    assert links.max_age() == 90


def test_a_delegate_gets_links_and_once_the_delegation_ends_the_link_shows_nothing(
    demo_org, worker, mailoutbox
):
    """finn covers for max: the assignment mail reaches him with his own links. When the
    delegation ends before he clicks, the link page is a 403 that says why, in his
    language, and shows nothing of the request (no title, amount or requester); nothing is
    sent to the workflow. max's own link still works."""
    emma, finn, max_ = demo_org["emma"], demo_org["finn"], demo_org["max"]
    today = timezone.localdate()
    people_services.delegation_create(
        user=max_, delegate=finn, starts_on=today, ends_on=today + timedelta(days=5)
    )
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, finn)
    # (finn also got the mail saying he was named delegate)
    (mail,) = [m for m in mailoutbox if finn.email in m.to and "awaits" in m.subject]
    assert "You receive this as the delegate of Max Müller." in mail.body
    assert links.read_token(path.split("/")[2])[0].username == "finn"
    web = client_for(finn, headers={"Accept-Language": "de"})
    live = web.get(path)
    assert live.status_code == 200 and 'data-testid="confirm"' in live.content.decode()

    yesterday = today - timedelta(days=1)
    Delegation.objects.filter(user=max_, delegate=finn).update(
        starts_on=yesterday, ends_on=yesterday
    )
    for response in (web.get(path), web.post(path, {"comment": "ok"})):
        html = response.content.decode()
        assert response.status_code == 403, html
        assert 'data-reason="no_longer_yours"' in html
        assert "Sie können hierüber nicht mehr entscheiden" in html
        for secret in (request.title, "300", "Emma", "emma"):
            assert secret not in html.split("<main", 1)[-1], secret
    state = state_of(request)
    assert state.decisions == [] and state.ignored_signals == []
    assert state.status == "pending"
    assert client_for(max_).get(mailed_link(mailoutbox, max_)).status_code == 200


def test_with_temporal_unreachable_a_link_still_answers(demo_org, worker, mailoutbox, settings):
    """The confirmation page comes from the projection; the POST says nothing changed (503)."""
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
    path = mailed_link(mailoutbox, max_)
    web = client_for(max_)
    with temporal_unreachable(settings, call_timeout=1):
        page = web.get(path)
        assert page.status_code == 200 and 'data-testid="confirm"' in page.content.decode()
        sent = web.post(path)
        assert sent.status_code == 503
        assert "Nothing was changed" in sent.content.decode()
    state = state_of(request)
    assert state.decisions == [] and state.ignored_signals == []


def test_a_decision_slower_than_the_wait_reads_recorded_then_applied(
    demo_org, worker, mailoutbox, settings
):
    emma, max_ = demo_org["emma"], demo_org["max"]
    request = submit(emma, "300.00")
    wait_pending_level(request, 1)
    path = mailed_link(mailoutbox, max_)
    settings.DECISION_LINK_WAIT = 0  # the page does not wait at all
    web = client_for(max_)
    kind, html = outcome(web.post(path))
    assert kind == "recorded", html
    assert "Your decision was recorded; the request will update in a moment." in html
    wait_closed(request, "approved")
    assert outcome(web.get(path))[0] == "applied"
