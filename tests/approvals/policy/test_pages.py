"""`/policy/`: versions, the draft (edit, validation in English and German, publish),
version pinning at submission, and the what-if on seeded past requests."""

from __future__ import annotations

import importlib
import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from approvals.models import ApprovalStep, ExpenseRequest, PolicyStatus, PolicyVersion
from approvals.policy import services as policy_services
from approvals.policy.rules import PolicyRules, demo_policy
from approvals.policy.versions import effective_version
from approvals.temporal.starter import workflow_input
from tests.support.requests import submit

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def draft_for(demo_org) -> PolicyVersion:
    return policy_services.policy_draft_open(by=demo_org["admin"])


def form_data(rules: PolicyRules, note: str = "") -> dict:
    """The draft form's POST for `rules` (one row per level a rule adds)."""
    from approvals.policy.forms import initial_of

    top, rows = initial_of(rules)
    data = {k: str(v) for k, v in top.items()} | {"note": note}
    data |= {
        "rule-TOTAL_FORMS": str(len(rows)),
        "rule-INITIAL_FORMS": str(len(rows)),
        "rule-MIN_NUM_FORMS": "0",
        "rule-MAX_NUM_FORMS": "50",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            if isinstance(value, list):
                data[f"rule-{i}-{key}"] = value
            elif value is not None:
                data[f"rule-{i}-{key}"] = str(value)
    return data


def it_from(rules: PolicyRules, cents: int) -> PolicyRules:
    rule = next(r for r in rules.rules if r.adds[0].group == "IT")
    rule.when.min_cents = cents
    return rules


def test_a_fresh_database_has_the_contracts_default_policy_as_version_1(demo_org):
    version = effective_version()
    assert (version.number, version.status) == (1, PolicyStatus.PUBLISHED)
    assert PolicyRules.from_dict(version.rules) == demo_policy()
    with open(os.devnull, "w") as devnull:  # idempotent
        call_command("seed_demo", stdout=devnull)
    assert PolicyVersion.objects.count() == 1


def test_the_data_migration_publishes_the_same_default_policy(db):
    from django.apps import apps

    migration = importlib.import_module("approvals.migrations.0006_policy_versions")
    PolicyVersion.objects.all().delete()
    migration.publish_default_policy(apps, None)
    # Issue 27: 0013 gives the (untouched) default version the default spend checks.
    checks = importlib.import_module("approvals.migrations.0013_flags_default_checks")
    checks.add_default_checks(apps, None)
    version = PolicyVersion.objects.get(number=1)
    assert version.status == PolicyStatus.PUBLISHED
    assert PolicyRules.from_dict(version.rules) == demo_policy()


@pytest.mark.parametrize("who", ["emma", "max", "diana", "fiona"])
def test_the_policy_pages_are_for_admins_only(demo_org, who):
    client = client_for(demo_org[who])
    assert client.get("/policy/").status_code == 403
    assert client.get("/policy/1/").status_code == 403
    assert client.get("/policy/1/what-if/").status_code == 403
    assert client.post("/policy/draft/").status_code == 403
    assert not PolicyVersion.objects.filter(status=PolicyStatus.DRAFT).exists()


def test_an_admin_edits_the_draft_and_publishes_it(demo_org):
    client = client_for(demo_org["admin"])
    response = client.post("/policy/draft/")
    assert response.status_code == 302 and response["Location"] == "/policy/2/"
    page = client.get("/policy/2/").content.decode()
    assert page.count('data-testid="rule-row"') == 3  # two rules and a blank row
    rules = it_from(demo_policy(), 100_000)
    assert client.post("/policy/2/", form_data(rules, "IT from 1,000")).status_code == 302
    draft = PolicyVersion.objects.get(number=2)
    assert PolicyRules.from_dict(draft.rules) == rules and draft.note == "IT from 1,000"
    today = timezone.localdate()
    response = client.post("/policy/2/publish/", {"effective_from": today.isoformat()})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.PUBLISHED and draft.published_by == demo_org["admin"]
    assert effective_version().number == 2
    # Published: read-only (a POST changes nothing), version 1 still readable.
    client.post("/policy/2/", form_data(demo_policy()))
    draft.refresh_from_db()
    assert PolicyRules.from_dict(draft.rules) == rules
    assert "IT for equipment and software" in client.get("/policy/1/").content.decode()


def test_an_effective_date_in_the_past_is_refused(demo_org):
    draft_for(demo_org)
    client = client_for(demo_org["admin"])
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post("/policy/2/publish/", {"effective_from": yesterday.isoformat()})
    assert response.status_code == 400
    assert "cannot be in the past" in response.content.decode()
    assert PolicyVersion.objects.get(number=2).status == PolicyStatus.DRAFT


def test_a_version_effective_tomorrow_is_not_in_force_today(demo_org):
    draft = draft_for(demo_org)
    tomorrow = timezone.localdate() + timedelta(days=1)
    policy_services.policy_publish(draft=draft, by=demo_org["admin"], effective_from=tomorrow)
    assert effective_version().number == 1
    assert effective_version(tomorrow).number == 2


PROBLEMS = [
    # (what the admin did, English, German)
    ("above_maximum", "can never be reached", "kann nie erreicht werden"),
    ("empty_group", "has no active member", "kein aktives Mitglied"),
    ("overlap", "overlap", "überschneiden sich"),
]


def broken(kind: str, demo_org) -> PolicyRules:
    rules = demo_policy()
    if kind == "above_maximum":
        rules.rules[0].when.min_cents = rules.max_amount_cents
    elif kind == "empty_group":
        for person in ("fiona", "felix"):
            demo_org[person].groups.clear()
    else:
        twin = PolicyRules.from_dict(rules.to_dict()).rules[1]
        twin.name, twin.when.categories = "IT for everything", []
        rules.rules.append(twin)
    return rules


@pytest.mark.parametrize(("kind", "english", "german"), PROBLEMS)
def test_a_draft_with_a_problem_explains_itself_and_cannot_be_published(
    demo_org, kind, english, german
):
    draft_for(demo_org)
    rules = broken(kind, demo_org)
    client = client_for(demo_org["admin"])
    assert client.post("/policy/2/", form_data(rules)).status_code == 302
    assert english in client.get("/policy/2/").content.decode()
    german_page = client_for(demo_org["admin"], "de").get("/policy/2/").content.decode()
    assert german in german_page
    today = timezone.localdate().isoformat()
    response = client.post("/policy/2/publish/", {"effective_from": today})
    assert response.status_code == 400 and english in response.content.decode()
    assert PolicyVersion.objects.get(number=2).status == PolicyStatus.DRAFT


def test_bad_input_on_the_draft_form_is_a_400_with_the_field_named(demo_org):
    draft_for(demo_org)
    data = form_data(demo_policy()) | {"two_levels_from": "lots", "rule-0-kind": "boss"}
    response = client_for(demo_org["admin"]).post("/policy/2/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-two_levels_from"' in html
    assert 'data-testid="error-rule-0-kind"' in html


# ------------------------------------------------------------------ pinning
def test_a_request_pins_the_version_in_force_at_submission(demo_org):
    before = submit(demo_org["emma"], "700.00", category="equipment")
    draft = draft_for(demo_org)
    policy_services.policy_draft_save(draft=draft, rules=it_from(demo_policy(), 100_000))
    policy_services.policy_publish(
        draft=draft, by=demo_org["admin"], effective_from=timezone.localdate()
    )
    after = submit(demo_org["emma"], "700.00", category="equipment")
    before.refresh_from_db()
    assert (before.policy_version, after.policy_version) == (1, 2)
    assert workflow_input(before).policy_version == "1"
    assert workflow_input(after).policy_version == "2"
    assert workflow_input(after).category == "equipment"
    # The pinned policy is shown to auditors (employees' pages keep workflow words out).
    page = client_for(demo_org["admin"]).get(f"/requests/{after.pk}/").content.decode()
    assert re.search(r'data-testid="policy-version">version 2<', page)


# ------------------------------------------------------------------ what-if
def past_request(org, euros: str, category: str, days_ago: int, approvers: list[str]):
    request = ExpenseRequest.objects.create(
        requester=org["emma"],
        title=f"{category} {euros}",
        amount=Decimal(euros),
        currency="EUR",
        category=category,
        base_amount_cents=int(Decimal(euros) * 100),
        fx_rate=Decimal(1),
        fx_rate_date=timezone.localdate(),
        policy_version=1,
        status="approved",
        levels=len(approvers),
    )
    ExpenseRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    for level, who in enumerate(approvers, start=1):
        ApprovalStep.objects.create(
            request=request, level=level, approvers=[who], status="approved", decided_by=who
        )
    return request


def test_the_what_if_lists_what_the_draft_would_change_on_past_requests(demo_org):
    org = demo_org
    same = past_request(org, "200.00", "travel", 10, ["max"])
    loses_it = past_request(org, "700.00", "equipment", 20, ["max", "ivan"])
    keeps_it = past_request(org, "1500.00", "software", 30, ["max", "diana", "ivan"])
    gains_finance = past_request(org, "4000.00", "travel", 40, ["max", "diana"])
    past_request(org, "4000.00", "travel", 200, ["max", "diana"])  # outside the period
    rules = it_from(demo_policy(), 100_000)  # IT from 1,000 EUR
    rules.rules[0].when.min_cents = 300_000  # finance from 3,000 EUR
    draft = draft_for(org)
    policy_services.policy_draft_save(draft=draft, rules=rules)
    start = (timezone.localdate() - timedelta(days=60)).isoformat()
    response = client_for(org["admin"]).get(f"/policy/2/what-if/?from={start}")
    assert response.status_code == 200
    html = response.content.decode()
    rows = re.findall(r'data-testid="what-if-row" data-request-id="(\d+)"', html)
    assert sorted(map(int, rows)) == sorted([loses_it.pk, gains_finance.pk])
    assert same.pk and keeps_it.pk  # routed alike: not listed
    assert "2 of 4 requests" in html
    assert 'data-testid="count-more_levels" data-count="1"' in html
    assert 'data-testid="count-fewer_levels" data-count="1"' in html
    assert 'data-group="finance" data-count="1"' in html
    assert 'data-change="no_longer_group:IT"' in html
    found = re.findall(r'data-person="(\w+)" data-before="(\d+)" data-after="(\d+)"', html)
    workload = {p: (int(b), int(a)) for p, b, a in found}
    assert workload["ivan"] == (2, 1)
    assert workload["fiona"] == workload["felix"] == (0, 1)
    assert workload["max"] == (4, 4) and workload["diana"] == (2, 2)
    assert "today&#x27;s organisation" in html or "today's organisation" in html
    # Nothing was touched.
    assert ExpenseRequest.objects.filter(policy_version=1).count() == 5


def test_a_what_if_period_that_makes_no_sense_is_a_400(demo_org):
    draft_for(demo_org)
    client = client_for(demo_org["admin"])
    assert client.get("/policy/2/what-if/?from=2026-05-01&to=2026-04-01").status_code == 400
    assert client.get("/policy/2/what-if/?from=yesterday").status_code == 400
    assert client.get("/policy/99/what-if/").status_code == 404


def test_a_period_with_more_requests_than_one_comparison_shows_says_so(demo_org, monkeypatch):
    from approvals.policy import selectors as policy_selectors

    monkeypatch.setattr(policy_selectors, "MAX_ROWS", 2)
    for days in (1, 2, 3):
        past_request(demo_org, "700.00", "equipment", days, ["max", "ivan"])
    draft_for(demo_org)
    html = client_for(demo_org["admin"]).get("/policy/2/what-if/").content.decode()
    assert 'data-testid="what-if-truncated"' in html and "only the first 2 are" in html


def test_a_rule_on_a_cost_centre_routes_by_the_requesters_cost_centre(demo_org):
    """Cost centres are the payout's (payouts.CostCentre, per person): emma is in CC-ENG,
    finn in CC-FIN; a rule for CC-ENG adds diana for emma's request and not for finn's."""
    from approvals.policy.rules import Conditions, LevelKind, LevelRule, PolicyRule
    from approvals.policy.versions import OrgCache, chain_for, request_facts

    rules = demo_policy()
    rules.rules.append(
        PolicyRule(
            name="engineering",
            when=Conditions(cost_centres=["CC-ENG"]),
            adds=[LevelRule(kind=LevelKind.PERSON, person="diana")],
        )
    )
    emma = past_request(demo_org, "100.00", "travel", 1, ["max"])
    finn = past_request(demo_org, "100.00", "travel", 1, ["maria"])
    finn.requester = demo_org["finn"]
    assert request_facts(emma).cost_centre == "CC-ENG"
    assert request_facts(finn).cost_centre == "CC-FIN"
    org = OrgCache()
    assert [s.approvers for s in chain_for(emma, rules, org)] == [["max"], ["diana"]]
    assert [s.approvers for s in chain_for(finn, rules, org)] == [["maria"]]


# ------------------------------------------------------------ spend checks (issue 27)
def checks_data(rules: PolicyRules, language: str = "en", **changes) -> dict:
    """The draft POST with its spend-checks part (prefix `checks`, limits `limit`), amounts
    typed as a reader of `language` types them."""
    from approvals.forms.checks import checks_initial
    from approvals.spend_checks import SpendChecks

    top, rows = checks_initial(SpendChecks.from_dict(rules.checks))
    data = form_data(rules) | {f"checks-{k}": str(v) for k, v in top.items()}
    data |= {
        "limit-TOTAL_FORMS": str(len(rows)),
        "limit-INITIAL_FORMS": str(len(rows)),
        "limit-MIN_NUM_FORMS": "0",
        "limit-MAX_NUM_FORMS": "30",
    }
    for i, row in enumerate(rows):
        data |= {f"limit-{i}-{k}": str(v) for k, v in row.items()}
    if language == "de":
        data = {
            k: v.replace(".", ",") if isinstance(v, str) and re.fullmatch(r"\d+\.\d\d", v) else v
            for k, v in data.items()
        }
    return data | changes


def test_the_editor_edits_the_checks_and_a_post_without_them_keeps_them(demo_org):
    admin = client_for(demo_org["admin"])
    admin.post("/policy/draft/")
    page = admin.get("/policy/2/").content.decode()
    assert 'data-testid="checks-form"' in page and 'name="limit-0-match" value="hotel"' in page
    changes = {"checks-receipt": "block", "limit-0-amount": "150,00"}
    data = checks_data(demo_policy(), "de", **changes)
    response = admin.post("/policy/2/", data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302, response.content.decode()[-2000:]
    checks = PolicyRules.from_dict(PolicyVersion.objects.get(number=2).rules).checks
    assert checks["receipt"] == "block"
    assert checks["category_limits"][0] == {
        "category": "travel",
        "cents": 15_000,
        "per": "night",
        "match": "hotel",
    }
    admin.post("/policy/2/", form_data(demo_policy()))  # no checks part: kept
    kept = PolicyRules.from_dict(PolicyVersion.objects.get(number=2).rules).checks
    assert kept == checks


@pytest.mark.parametrize(
    ("language", "field", "value", "words"),
    [
        ("en", "checks-near_tolerance_percent", "51", "less than or equal to 50"),
        ("de", "checks-split_days", "-1", "größer oder gleich 0"),
        ("en", "limit-0-amount", "", "Enter the limit for this category."),
        ("de", "limit-0-amount", "", "Geben Sie das Limit für diese Kategorie ein."),
        ("en", "checks-receipt", "maybe", "Select a valid choice."),
    ],
)
def test_the_checks_are_validated_in_words(demo_org, language, field, value, words):
    admin = client_for(demo_org["admin"])
    admin.post("/policy/draft/")
    data = checks_data(demo_policy(), language, **{field: value})
    response = admin.post("/policy/2/", data, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html and words in html


def test_a_repeated_limit_is_a_problem_that_blocks_publishing(demo_org):
    admin = client_for(demo_org["admin"])
    admin.post("/policy/draft/")
    data = checks_data(
        demo_policy(),
        **{
            "limit-TOTAL_FORMS": "3",
            "limit-2-category": "meals",
            "limit-2-per": "person",
            "limit-2-amount": "70.00",
        },
    )
    assert admin.post("/policy/2/", data).status_code == 302
    page = admin.get("/policy/2/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Limit 3 wiederholt ein früheres Limit" in page


def past_hotel(org, euros: str, days_ago: int, flagged: bool = False):
    from approvals.models import ExpenseLine, LineFlag

    request = past_request(org, euros, "travel", days_ago, ["max"])
    ExpenseLine.objects.create(
        request=request,
        position=1,
        date=timezone.localdate() - timedelta(days=days_ago),
        category="travel",
        amount=Decimal(euros),
        currency="EUR",
        merchant="Hotel Adlon",
        merchant_key=f"hotel adlon {days_ago}",
        description="1 night",
        receipt_sha256=f"{days_ago:064d}",
        base_amount_cents=int(Decimal(euros) * 100),
    )
    if flagged:
        LineFlag.objects.create(request=request, position=1, code="over_limit", params={})
    return request


def test_the_what_if_of_a_lower_hotel_limit_lists_the_past_reports_it_would_flag(demo_org):
    org = demo_org
    cheap = past_hotel(org, "120.00", 10)
    middle = past_hotel(org, "180.00", 17)
    dear = past_hotel(org, "230.00", 24, flagged=True)  # over 200 already at submission
    rules = demo_policy()
    rules.checks["category_limits"][0]["cents"] = 15_000  # hotel nights: 150 EUR
    policy_services.policy_draft_save(draft=draft_for(org), rules=rules)
    start = (timezone.localdate() - timedelta(days=60)).isoformat()
    html = (
        client_for(org["admin"])
        .get(f"/policy/2/what-if/?from={start}", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    rows = re.findall(r'data-testid="what-if-flag-row" data-request-id="(\d+)"', html)
    assert sorted(map(int, rows)) == sorted([middle.pk, dear.pk])
    assert cheap.pk not in map(int, rows)
    assert "180.00 EUR for 1 night is over the limit of 150.00 EUR a night." in html
    assert "this version would flag 2 and block 0" in html
    section = html.split(f'data-request-id="{dear.pk}"', 2)[-1]
    assert 'data-code="over_limit">Over the limit</span>' in section  # at submission
    # Blocking instead of warning: the same reports, now blocked.
    rules.checks["limits"] = "block"
    policy_services.policy_draft_save(draft=PolicyVersion.objects.get(number=2), rules=rules)
    german = (
        client_for(org["admin"])
        .get(f"/policy/2/what-if/?from={start}", HTTP_ACCEPT_LANGUAGE="de")
        .content.decode()
    )
    assert german.count('data-blocked="true"') == 2
    assert "180,00 EUR für 1 Nacht liegen über dem Limit von 150,00 EUR pro Nacht." in german
