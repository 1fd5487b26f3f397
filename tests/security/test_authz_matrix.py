"""Authorization matrix: every project URL × every role × GET and POST.

The URLs come from the URL configuration (tests/security/routes.py), the
expectations from MATRIX below. A URL without an entry fails the test: whoever
adds a view must decide, here, who may reach it.

The world: emma's request (with a receipt) pending at level 1 (max decides it), a future
delegation emma gave to finn (for `delegation-end`) and max's mail link to reject it.
POSTs carry no form data: they show who gets past the door, not what the form then says.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts import services as people_services
from accounts.models import Delegation, Passkey
from accounts.services import token_create
from approvals import links, services
from approvals.models import ExpenseLine, ExpenseRequest
from approvals.ocr.models import ReadStatus, ReceiptUpload
from approvals.policy import services as policy_services
from payouts.models import Batch
from tests.support.lines import add_line, receipt_png
from tests.support.requests import wait_pending_level
from tests.support.waiting import wait_for

from .routes import project_routes

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "requester", "other_employee", "approver", "other_manager", "admin")
USERS = {
    "requester": "emma",
    "other_employee": "finn",
    "approver": "max",
    "other_manager": "maria",
    "admin": "admin",
}

# A string is a redirect (302) whose Location starts with it; an int is a status.
LOGIN = "/accounts/login/"
MINE = "/requests/"
INBOX = "/inbox/"
ALL_IN = (LOGIN,) + (200,) * 5  # anonymous to the login page, every signed-in role 200
GET_ONLY = (LOGIN,) + (405,) * 5
POST_ONLY = (LOGIN,) + (405,) * 5
ADMINS = (LOGIN, 403, 403, 403, 403, 200)
# Who may see emma's request: herself, the approver in the chain, the admin. The
# others get 404, exactly as for a request that does not exist.
SEES_REQUEST = (LOGIN, 200, 404, 200, 404, 200)
TOKENS = "/accounts/tokens/"
API_ALL_IN = (401,) + (200,) * 5
API_SEES_REQUEST = (401, 200, 404, 200, 404, 200)
API_EMPTY_POST = (401,) + (400,) * 5  # an empty form body is no JSON: 400

SCIM_NAMES = (
    "scim-config",
    "scim-resource-types",
    "scim-schemas",
    "scim-users",
    "scim-user",
    "scim-groups",
    "scim-group",
)

# url name -> (GET per role, POST per role), roles in the order of ROLES:
#            anonymous, requester, other employee, approver, other manager, admin
MATRIX: dict[str, tuple[tuple, tuple]] = {
    "healthz": ((200,) * 6, (405,) * 6),
    # Signed in, the login page sends people to their overview (/).
    "login": ((200,) + ("/",) * 5, (200,) + ("/",) * 5),
    "logout": ((405,) * 6, (LOGIN,) * 6),
    # An empty POST is a bound, invalid form: the page again with its errors (400).
    "delegation": (ALL_IN, (LOGIN,) + (400,) * 5),
    # Only one's own delegation can be ended; someone else's is a 404 like a missing one.
    "delegation-end": (POST_ONLY, (LOGIN, "/accounts/delegation/", 404, 404, 404, 404)),
    # Personal access tokens: an empty POST is an invalid form; only one's own token (or,
    # for admins, anyone's) can be revoked, others get a 404 like a missing one.
    "tokens": (ALL_IN, (LOGIN,) + (400,) * 5),
    # One's own profile (no id in the URL: nobody else's can be named); an empty POST is a
    # valid form (the digest box unticked) and redirects back to the page.
    "profile": (ALL_IN, (LOGIN,) + ("/accounts/profile/",) * 5),
    "token-revoke": (POST_ONLY, (LOGIN, TOKENS, 404, 404, 404, TOKENS)),
    # The JSON API with the browser session (tests/security/test_api_authz.py has the
    # tokens): 401 without a sign-in, 405 for a method it lacks, 400 for a body that is no JSON.
    "openapi-json": (ALL_IN, (405,) * 6),
    "openapi-view": (ALL_IN, (405,) * 6),
    "api-root": ((404,) * 6, (404,) * 6),
    "api-requests": (API_ALL_IN, API_EMPTY_POST),
    "api-request": (API_SEES_REQUEST, (405,) * 6),
    "api-request-status": (API_SEES_REQUEST, (405,) * 6),
    "api-decision": ((405,) * 6, API_EMPTY_POST),
    "api-withdraw": ((405,) * 6, API_EMPTY_POST),
    "api-resubmit": ((405,) * 6, API_EMPTY_POST),
    "api-extend": ((405,) * 6, API_EMPTY_POST),
    "api-inbox": (API_ALL_IN, (405,) * 6),
    "home": (ALL_IN, (405,) * 6),
    "requests": (ALL_IN, GET_ONLY),
    "request-new": (ALL_IN, (LOGIN,) + (400,) * 5),
    # How a typed amount is read (the form's live hint): anyone signed in, GET only.
    "amount-hint": (ALL_IN, GET_ONLY),
    # A receipt read while the form is open: anyone signed in uploads one (an empty POST
    # has no file: 400 with words); its reading is its uploader's alone (others: 404).
    "receipt-read": ((LOGIN,) + (405,) * 5, (LOGIN,) + (400,) * 5),
    "receipt-read-result": ((LOGIN, 200, 404, 404, 404, 404), (LOGIN,) + (405,) * 5),
    "request-detail": (SEES_REQUEST, GET_ONLY),
    "request-live": (SEES_REQUEST, GET_ONLY),
    "request-receipt": (SEES_REQUEST, GET_ONLY),
    # A line's receipt and its preview (line 1): exactly the request's own rule.
    "line-receipt": (SEES_REQUEST, GET_ONLY),
    "line-receipt-preview": (SEES_REQUEST, GET_ONLY),
    # Those who may see the request but are not its requester get 403, the rest 404.
    "request-withdraw": (POST_ONLY, (LOGIN, MINE, 404, 403, 404, 403)),
    "request-resubmit": (POST_ONLY, (LOGIN, 400, 404, 403, 404, 403)),
    # Extending the deadline: whoever may see the request gets past the door, and an empty
    # POST is an invalid form (400); the workflow decides who may (tests/e2e, test_actions).
    "request-extend": (POST_ONLY, (LOGIN, 400, 404, 400, 404, 400)),
    # An override is for administrators: 403 for who may see the request, 404 for the rest.
    "request-override": (POST_ONLY, (LOGIN, 403, 404, 403, 404, 400)),
    # An empty decision is refused with a message on the inbox, for everyone alike.
    "request-decide": (POST_ONLY, (LOGIN,) + (INBOX,) * 5),
    "inbox": (ALL_IN, GET_ONLY),
    "inbox-count": (ALL_IN, GET_ONLY),
    "inbox-bulk-approve": (POST_ONLY, (LOGIN,) + (INBOX,) * 5),
    # A mail's decision link (here max's reject link for level 1) works for max alone; an
    # empty POST is a bound form without the required reason (400), nothing is sent.
    "decision-link": ((LOGIN, 403, 403, 200, 403, 403), (LOGIN, 403, 403, 400, 403, 403)),
    "audit": (ADMINS, GET_ONLY),
    "audit-detail": (ADMINS, GET_ONLY),
    "audit-json": (ADMINS, GET_ONLY),
    "audit-evidence-pdf": (ADMINS, GET_ONLY),
    "audit-evidence-zip": (ADMINS, GET_ONLY),
    "analytics": (ADMINS, GET_ONLY),
    "analytics-csv": (ADMINS, GET_ONLY),
    # The codec protocol: POST only, for admins; anonymous 401 (JSON, no login redirect);
    # the admin's empty body is a 400.
    "codec-encode": ((405,) * 6, (401, 403, 403, 403, 403, 400)),
    "codec-decode": ((405,) * 6, (401, 403, 403, 403, 403, 400)),
    # Prometheus text: open from loopback (the test client is 127.0.0.1), any session.
    "metrics": ((200,) * 6, (405,) * 6),
    "ops": (ADMINS, GET_ONLY),
    # Actions on /ops/: admins only, each answers with a redirect back to /ops/.
    "ops-start": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/ops/")),
    "ops-reroute": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/ops/")),
    "ops-resend": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/ops/")),
    "ops-dismiss": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/ops/")),
    # The policy (the draft version 2 of the world): admins only. Opening the draft when
    # it exists leads to it; an empty draft or publish POST is an invalid form (400);
    # discarding leads back to the list.
    "policy-list": (ADMINS, GET_ONLY),
    "policy-draft": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/policy/2/")),
    "policy-detail": (ADMINS, (LOGIN, 403, 403, 403, 403, 400)),
    "policy-publish": (POST_ONLY, (LOGIN, 403, 403, 403, 403, 400)),
    "policy-discard": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/policy/")),
    "policy-what-if": (ADMINS, GET_ONLY),
    "ops-payout-retry": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/ops/")),
    # One's own bank details (no user parameter): an empty POST is an invalid form.
    "bank-details": (ALL_IN, (LOGIN,) + (400,) * 5),
    # Payout batches, their payments and SEPA files: admins only.
    "payout-batches": (ADMINS, GET_ONLY),
    "payout-batch": (ADMINS, GET_ONLY),
    "payout-batch-file": (ADMINS, GET_ONLY),
    # Confirming a bank change: finance members only (none of the matrix' roles; the
    # finance role is tested in tests/payouts/test_bank_changes.py).
    "bank-change-confirm": (POST_ONLY, (LOGIN, 403, 403, 403, 403, 403)),
    # Retrying a batch left without its file: admins; a batch that does not exist is
    # refused with a message on /ops/.
    "ops-batch-retry": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/ops/")),
    # Closing the open batch from /payouts/: admins; another batch is refused in words there.
    "payout-batch-close": (POST_ONLY, (LOGIN, 403, 403, 403, 403, "/payouts/")),
    # Single sign-on is not configured here: both ends of it are 404 (tests/e2e has it on);
    # the callback has no POST.
    "oidc_authentication_init": ((404,) * 6, (405,) * 6),
    "oidc_authentication_callback": ((404,) * 6, (405,) * 6),
    # One's own passkeys: an empty POST is the step-up prompt without its password (400);
    # creation options after a fresh sign-in; only one's own passkey can be removed.
    "passkeys": (ALL_IN, (LOGIN,) + (400,) * 5),
    "passkey-options": (POST_ONLY, (LOGIN,) + (200,) * 5),
    "passkey-delete": (POST_ONLY, (LOGIN, "/accounts/passkeys/", 404, 404, 404, 404)),
    # SCIM: the bearer SCIM_TOKEN only (tests/accounts/test_scim_*.py); a session is no way in.
    **dict.fromkeys(SCIM_NAMES, ((401,) * 6, (401,) * 6)),
}

API_GET_ONLY = {"api-request", "api-request-status", "api-inbox"}

# Which object each URL parameter names, per URL (default: emma's request).
PARAMETER_OBJECT = {
    "delegation-end": "delegation",
    "decision-link": "link",
    "token-revoke": "token",
    "policy-detail": "policy",
    "policy-publish": "policy",
    "policy-discard": "policy",
    "policy-what-if": "policy",
    "payout-batch": "batch",
    "payout-batch-file": "batch",
    "bank-change-confirm": "missing",
    "ops-batch-retry": "missing",
    "payout-batch-close": "missing",
    "passkey-delete": "passkey",
    "receipt-read-result": "upload",
}


def test_every_url_has_an_entry_in_the_matrix():
    routes = project_routes()
    unnamed = [r.route for r in routes if not r.name]
    assert not unnamed, f"give these URL patterns a name and a MATRIX entry: {unnamed}"
    missing = sorted({r.name for r in routes} - set(MATRIX))
    assert not missing, (
        f"URL(s) {missing} have no entry in tests/security/test_authz_matrix.py MATRIX: "
        "add one saying which status each role gets for GET and POST."
    )
    stale = sorted(set(MATRIX) - {r.name for r in routes})
    assert not stale, f"MATRIX lists URLs that no longer exist: {stale}"
    for name, (get, post) in MATRIX.items():
        assert len(get) == len(post) == len(ROLES), name


@pytest.fixture
def world(demo_org, worker, settings, tmp_path):
    emma, finn = demo_org["emma"], demo_org["finn"]
    settings.MEDIA_ROOT = tmp_path / "media"
    receipt = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")
    request = services.expense_submit(
        requester=emma,
        title="Matrix request",
        amount=Decimal("300.00"),
        currency="EUR",
        category="travel",
        receipt=receipt,
    )
    wait_pending_level(request, 1)
    # The projection (what the views read) catches up through an activity.
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
    # Its first line with the receipt (made here while the submit form has no lines).
    ExpenseLine.objects.filter(request=request).delete()
    add_line(request, 1, receipt_png(), merchant="Matrix")
    today = timezone.localdate()
    delegation = people_services.delegation_create(
        user=emma,
        delegate=finn,
        starts_on=today + timedelta(days=30),
        ends_on=today + timedelta(days=35),
    )
    link = links.make_token(
        links.LinkClaim("max", request.pk, 1, 1, "reject", links.new_decision_id())
    )
    token, _ = token_create(owner=emma, name="matrix", scopes=["read"])
    draft = policy_services.policy_draft_open(by=demo_org["admin"])
    batch = Batch.objects.create(status="closed", period="matrix", sepa_xml="<Document/>")
    passkey = Passkey.objects.create(
        owner=emma, name="matrix", credential_id=b"matrix-credential", public_key=b"key"
    )
    upload = ReceiptUpload.objects.create(
        owner=emma, kind="png", size=1, sha256="0" * 64, status=ReadStatus.UNAVAILABLE
    )
    return {
        "upload": upload.token,
        "passkey": passkey.pk,
        "policy": draft.number,
        "batch": batch.pk,
        "missing": 999999,
        "request": request.pk,
        "delegation": delegation.pk,
        "link": link,
        "token": token.pk,
        "users": demo_org,
    }


def _client(role: str, users) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(users[USERS[role]])
    return client


def _outcome(response) -> int | str:
    if response.status_code == 302:
        return response["Location"]
    return response.status_code


def _matches(expected: int | str, actual: int | str) -> bool:
    if isinstance(expected, str):
        return isinstance(actual, str) and actual.startswith(expected)
    return expected == actual


def _paths(world) -> dict[str, str]:
    paths = {}
    for route in project_routes():
        obj = PARAMETER_OBJECT.get(route.name, "request")
        params = dict.fromkeys(route.parameters, world[obj])
        if "n" in params:  # a line of the request: its first
            params["n"] = 1
        paths[route.name] = route.path(**params)
    return paths


def test_every_url_answers_every_role_as_the_matrix_says(world):
    """GETs first (they change nothing), then POSTs role by role with the requester
    last, since her withdraw POST really withdraws the request."""
    paths = _paths(world)
    checked = 0
    clients: dict[str, Client] = {}
    failures = []
    for method, column in (("get", 0), ("post", 1)):
        order = ROLES if method == "get" else (*[r for r in ROLES if r != "requester"], "requester")
        for role in order:
            for name, path in paths.items():
                expected = MATRIX[name][column][ROLES.index(role)]
                if role not in clients:
                    clients[role] = _client(role, world["users"])
                response = getattr(clients[role], method)(path)
                if name == "logout":
                    clients.pop(role)  # that session is gone; sign in again
                actual = _outcome(response)
                checked += 1
                if not _matches(expected, actual):
                    failures.append(
                        f"{method.upper()} {path} ({name}) as {role}: "
                        f"expected {expected!r}, got {actual!r}"
                    )
    print(
        f"\nauthorization matrix: {len(paths)} URLs x {len(ROLES)} roles x 2 methods "
        f"= {checked} checks"
    )
    assert not failures, "\n".join(failures)


def test_detail_of_a_missing_request_looks_like_a_foreign_one(world):
    """No existence leak: finn gets the same 404 for emma's request and for none at all."""
    finn = _client("other_employee", world["users"])
    missing = world["request"] + 10_000
    for url in ("/requests/{}/", "/requests/{}/live/"):
        assert finn.get(url.format(world["request"])).status_code == 404
        assert finn.get(url.format(missing)).status_code == 404
    foreign = finn.post(f"/requests/{world['request']}/withdraw/")
    absent = finn.post(f"/requests/{missing}/withdraw/")
    assert foreign.status_code == absent.status_code == 404
    assert foreign.content == absent.content


def test_every_post_is_refused_without_a_csrf_token(world):
    """CSRF for every URL, whatever its method: a forged POST never reaches a view."""
    paths = _paths(world)
    users = world["users"]
    for role in ("anonymous", "requester", "admin"):
        forger = Client(enforce_csrf_checks=True)
        if role != "anonymous":
            forger.force_login(users[USERS[role]])
        for name, path in paths.items():
            data = {"action": "approve", "request_ids": [world["request"]], "title": "x"}
            response = forger.post(path, data)
            # API operations are CSRF-exempt views that check the token themselves
            # (SessionAuth(csrf=True)); one that has no POST answers 405 before any of it.
            # SCIM reads no cookie at all: without its bearer token, 401.
            expected = 405 if name in API_GET_ONLY else 401 if name in SCIM_NAMES else 403
            assert response.status_code == expected, f"POST {path} ({name}) as {role} no token"
    # Nothing happened: still pending at level 1, the delegation still there.
    assert ExpenseRequest.objects.get(pk=world["request"]).status == "pending"
    assert Delegation.objects.filter(pk=world["delegation"]).exists()


# ------------------------------------------------------------------ delegates
def _sees(client: Client, pk: int) -> tuple[int, int]:
    return (
        client.get(f"/requests/{pk}/").status_code,
        client.get(f"/requests/{pk}/live/").status_code,
    )


def test_delegate_sees_a_request_only_while_it_waits_on_their_principal(world):
    """finn stands in for max (today): he sees emma's request while it is pending
    at max's level; not once the delegation has ended, not once it is closed."""
    users = world["users"]
    max_, finn = users["max"], users["finn"]
    today = timezone.localdate()
    standing_in = Delegation.objects.create(
        user=max_, delegate=finn, starts_on=today - timedelta(days=1), ends_on=today
    )
    finn_client = _client("other_employee", users)
    pk = world["request"]
    assert _sees(finn_client, pk) == (200, 200)
    assert finn_client.get(f"/requests/{pk}/receipt/").status_code == 200

    # The delegation ended (yesterday): nothing any more.
    standing_in.starts_on = today - timedelta(days=3)
    standing_in.ends_on = today - timedelta(days=1)
    standing_in.save()
    assert _sees(finn_client, pk) == (404, 404)
    assert finn_client.get(f"/requests/{pk}/receipt/").status_code == 404

    # Active again, then the request closes: a closed request is not a delegate's.
    standing_in.ends_on = today
    standing_in.save()
    assert _sees(finn_client, pk) == (200, 200)
    request = ExpenseRequest.objects.get(pk=pk)
    services.decision_record(request=request, actor=max_, action="approve")
    wait_for(lambda: ExpenseRequest.objects.get(pk=pk).status == "approved")
    assert _sees(finn_client, pk) == (404, 404)
    # max decided it and still sees it; so do emma and the admin.
    for role in ("approver", "requester", "admin"):
        assert _sees(_client(role, users), pk) == (200, 200), role


def test_delegate_of_a_later_level_or_of_the_requester_sees_nothing_yet(world):
    users = world["users"]
    emma, finn, maria, diana = users["emma"], users["finn"], users["maria"], users["diana"]
    today = timezone.localdate()
    # A two-level request: max decides level 1, his manager level 2.
    request = services.expense_submit(
        requester=emma,
        title="Two levels",
        amount=Decimal("5000.00"),
        currency="EUR",
        category="travel",
    )
    wait_pending_level(request, 1)
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == ["max"])
    chain = ExpenseRequest.objects.get(pk=request.pk).chain_usernames
    later = next(name for name in chain if name != "max")
    delegate_of_later = maria if later != "maria" else diana
    Delegation.objects.create(
        user=users[later], delegate=delegate_of_later, starts_on=today, ends_on=today
    )
    # emma's own delegation to finn (a future one exists in the world) made current.
    Delegation.objects.create(user=emma, delegate=finn, starts_on=today, ends_on=today)
    later_client = Client()
    later_client.force_login(delegate_of_later)
    assert _sees(later_client, request.pk) == (404, 404)  # level 2 does not wait yet
    assert _sees(_client("other_employee", users), request.pk) == (404, 404)
