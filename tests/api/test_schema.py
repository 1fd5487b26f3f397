"""schemathesis against the API's own OpenAPI schema, in-process (the Django WSGI app),
on the real Temporal dev server and worker, with a valid token of every scope:
no answer is a 5xx and every answer matches the schema (documented status and body),
also for amounts at and beyond their limits in every currency (JPY has no decimals).

The world: emma's request pending at level 1, max's token (all scopes) calling, so
decisions, extensions and the inbox reach the workflow for real.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from approvals.models import CURRENCIES, ApiCall, ExpenseRequest
from tests.support.api import token_for
from tests.support.requests import submit, wait_pending_level

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api_schema(demo_org, worker, settings):
    settings.API_RATE_LIMIT = 100_000  # the limit has its own test; here it would only hide
    cache.clear()
    request = submit(demo_org["emma"], "300.00")
    wait_pending_level(request, 1)
    secret = token_for(demo_org["max"], name="schemathesis")
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json",
        get_wsgi_application(),
        headers={"Authorization": f"Bearer {secret}"},
    )
    schema.auth_header = f"Bearer {secret}"
    return schema


# schemathesis' lazy pytest loader (`from_fixture`) needs pytest < 9, so the
# operations are walked here, one hypothesis run per operation and mode.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_match_the_schema_and_never_fail(api_schema, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    headers = {"Authorization": api_schema.auth_header}

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case):
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )

        check()
    # The calls really reached the app as max's token (each one is recorded).
    calls = ApiCall.objects.filter(token_name="schemathesis")
    assert calls.count() >= len(operations) * 5
    assert calls.filter(status_code__lt=300).exists()


# Money at and beyond its limits, in every currency (JPY has no decimals): the bounds
# of the form (one cent, the policy's 1,000,000.00 EUR, the column's digits) and what a
# script might send (a float's artefact, grouping, an exponent, a sign).
LIMIT_AMOUNTS = st.sampled_from(
    [
        0,
        1,
        0.01,
        0.001,
        12.5,
        0.30000000000000004,
        999999.99,
        1000000,
        1000000.01,
        1e15,
        1e300,
        -1,
        "0",
        "0.01",
        "12.5",
        "1500",
        "1500.00",
        "999999.99",
        "1000000.00",
        "1000000.01",
        "9999999999.99",
        "99999999999999999999",
        "1,450.00",
        "38,50",
        "1e3",
        "-5",
        " 12 ",
        "",
        "NaN",
    ]
)
CURRENCY_CODES = st.sampled_from([code for code, _ in CURRENCIES])


def _operation(api_schema, method: str, path: str):
    return next(
        op
        for op in (result.ok() for result in api_schema.get_all_operations())
        if op.method.upper() == method and op.path.endswith(path)
    )


def test_amounts_at_their_limits_in_every_currency_never_fail(api_schema, demo_org):
    headers = {"Authorization": api_schema.auth_header}
    submit_op = _operation(api_schema, "POST", "/v1/requests")
    resubmit_op = _operation(api_schema, "POST", "/requests/{pk}/resubmit")
    pk = ExpenseRequest.objects.get(requester__username="emma").pk
    answers = []

    @given(amount=LIMIT_AMOUNTS, currency=CURRENCY_CODES)
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(amount, currency):
        body = {"title": "Limits", "amount": amount, "currency": currency, "category": "travel"}
        case = submit_op.Case(body=body)
        response = case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )
        answers.append(response.status_code)
        case = resubmit_op.Case(
            path_parameters={"pk": pk}, body={"title": "Limits", "amount": amount}
        )
        response = case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )
        answers.append(response.status_code)

    check()
    # Both kinds of answer happened: amounts taken and amounts refused in words.
    assert 201 in answers and 422 in answers
    assert ExpenseRequest.objects.filter(currency="JPY", title="Limits").exists()
