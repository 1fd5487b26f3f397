"""schemathesis against the API's own OpenAPI schema, in-process (the Django WSGI app),
on the real Temporal dev server and worker, with a valid token of every scope:
no answer is a 5xx and every answer matches the schema (documented status and body).

The world: emma's request pending at level 1, max's token (all scopes) calling, so
decisions, extensions and the inbox reach the workflow for real.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from approvals.models import ApiCall
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
