"""Idempotent submit: the new-request form's one-time token creates one request.

A repeated POST of the same form (double click, browser retry, back + resend)
and two POSTs at the same moment (threads, real PostgreSQL, each in its own
connection and transaction) both end on the first request.
"""

from __future__ import annotations

import re
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from approvals import services
from approvals.models import ExpenseRequest

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    "title": "Conference hotel",
    "amount": "420.00",
    "currency": "EUR",
    "category": "travel",
    "description": "",
}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_form_carries_a_fresh_hidden_token_each_time(demo_org):
    client = signed_in(demo_org["emma"])
    tokens = []
    for _ in range(2):
        page = client.get("/requests/new/").content.decode()
        match = re.search(r'<input type="hidden" name="submit_token" value="([0-9a-f-]{36})"', page)
        assert match, "no submit_token in the form"
        tokens.append(uuid.UUID(match.group(1)))
    assert tokens[0] != tokens[1]


def test_a_repeated_post_redirects_to_the_first_request(demo_org, worker):
    client = signed_in(demo_org["emma"])
    data = {**FORM, "submit_token": str(uuid.uuid4())}
    first = client.post("/requests/new/", data)
    again = client.post("/requests/new/", data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert ExpenseRequest.objects.filter(requester=demo_org["emma"]).count() == 1
    # A new form (new token) is a new request.
    other = client.post("/requests/new/", {**FORM, "submit_token": str(uuid.uuid4())})
    assert other["Location"] != first["Location"]
    assert ExpenseRequest.objects.filter(requester=demo_org["emma"]).count() == 2


def test_two_parallel_posts_with_one_token_create_one_request(demo_org, worker):
    assert connection.vendor == "postgresql"
    emma = demo_org["emma"]
    token = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def post(i: int) -> None:
        try:
            client = signed_in(emma)
            barrier.wait(10)
            answers[i] = client.post("/requests/new/", {**FORM, "submit_token": token})
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert ExpenseRequest.objects.filter(requester=emma).count() == 1


def test_the_race_itself_is_decided_by_the_constraint(demo_org, worker):
    """Both service calls pass the "already there?" check before either commits."""
    emma = demo_org["emma"]
    token = uuid.uuid4()
    barrier = threading.Barrier(2)
    results: list = [None, None]
    original = services.requests._submitted_with

    def looked_up_then_wait(requester, submit_token):
        found = original(requester, submit_token)
        if found is None and threading.current_thread().name.startswith("racer"):
            barrier.wait(10)  # both have looked and found nothing
        return found

    def submit(i: int) -> None:
        try:
            results[i] = services.expense_submit(
                requester=emma,
                title="Race",
                amount=Decimal(FORM["amount"]),
                currency="EUR",
                category="travel",
                submit_token=token,
            ).pk
        finally:
            connection.close()

    services.requests._submitted_with = looked_up_then_wait
    try:
        threads = [threading.Thread(target=submit, args=(i,), name=f"racer-{i}") for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        services.requests._submitted_with = original
    assert results[0] is not None and results[0] == results[1]
    assert ExpenseRequest.objects.filter(requester=emma).count() == 1


def test_a_token_belongs_to_its_requester(demo_org, worker):
    """Someone else's token is just a token: it never returns another person's request."""
    data = {**FORM, "submit_token": str(uuid.uuid4())}
    token = data["submit_token"]
    emma_answer = signed_in(demo_org["emma"]).post("/requests/new/", data)
    finn_answer = signed_in(demo_org["finn"]).post("/requests/new/", data)
    assert emma_answer["Location"] != finn_answer["Location"]
    assert ExpenseRequest.objects.get(requester=demo_org["finn"]).submit_token == uuid.UUID(token)


def test_a_mangled_or_missing_token_still_submits(demo_org, worker):
    client = signed_in(demo_org["emma"])
    for token in ("not-a-uuid", "", None):
        data = {**FORM} if token is None else {**FORM, "submit_token": token}
        assert client.post("/requests/new/", data).status_code == 302, token
    assert ExpenseRequest.objects.filter(requester=demo_org["emma"], submit_token=None).count() == 3
