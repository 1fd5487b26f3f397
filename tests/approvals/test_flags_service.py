"""The spend checks at submission (services.flags through services.expense_submit): the
candidates are read through the indexes, the flags are stored and audited, and a
blocking check refuses with the message at the field and saves nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import services
from approvals.models import AuditEntry, ExpenseLine, ExpenseRequest, LineFlag, PolicyVersion
from approvals.policy.rules import PolicyRules
from approvals.services import flags as spend_flags
from approvals.spend_checks import LineFacts, SpendChecks, demo_checks

pytestmark = pytest.mark.django_db


def submit(user, amount="240.00", *, category="travel", receipt=None, **kw):
    return services.expense_submit(
        requester=user,
        title=kw.pop("title", "Hotel Adlon"),
        amount=Decimal(amount),
        currency="EUR",
        category=category,
        description=kw.pop("description", "Hotel, 1 night"),
        receipt=receipt,
    )


def receipt(content=b"%PDF-1.4 hotel adlon 240 EUR"):
    return SimpleUploadedFile("hotel.pdf", content, content_type="application/pdf")


def codes(request):
    return list(request.flags.values_list("position", "code", "severity"))


def set_checks(**changes):
    version = PolicyVersion.objects.get(number=1)
    rules = PolicyRules.from_dict(version.rules)
    rules.checks = {**rules.checks, **changes}
    PolicyVersion.objects.filter(pk=version.pk).update(rules=rules.to_dict())


def test_the_same_receipt_by_someone_else_is_flagged_duplicate(demo_org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = submit(demo_org["emma"], receipt=receipt())
    second = submit(demo_org["bob"] if "bob" in demo_org else demo_org["max"], receipt=receipt())
    line = ExpenseLine.objects.get(request=first)
    assert len(line.receipt_sha256) == 64 and line.receipt.name
    assert codes(first) == [(1, "over_limit", "warn")]
    assert codes(second) == [(1, "duplicate", "warn"), (1, "over_limit", "warn")]
    flag = second.flags.get(code="duplicate")
    assert flag.params == {"request": first.pk, "line": 1, "by": "receipt", "same_report": False}
    audit = AuditEntry.objects.get(request=second, kind="flagged")
    assert [f["code"] for f in audit.detail["flags"]] == ["duplicate", "over_limit"]


def test_two_bags_under_1000_are_a_split(demo_org):
    emma = demo_org["emma"]
    first = submit(emma, "999.99", category="equipment", title="Laptop bag", description="")
    second = submit(emma, "999.99", category="equipment", title="Laptop bag", description="")
    assert ("split") not in [c for _, c, _ in codes(first)]
    split = second.flags.get(code="split")
    assert (split.position, split.params["threshold"], split.params["total"]) == (
        0,
        100_000,
        199_998,
    )
    assert split.params["requests"] == [first.pk]


def test_a_small_report_with_a_receipt_is_not_flagged(demo_org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    request = submit(demo_org["emma"], "42.00", category="other", receipt=receipt(b"unique"))
    assert codes(request) == []
    assert not AuditEntry.objects.filter(request=request, kind="flagged").exists()


def test_a_blocking_check_refuses_at_the_field_and_saves_nothing(demo_org):
    set_checks(receipt="block")
    before = (ExpenseRequest.objects.count(), ExpenseLine.objects.count(), LineFlag.objects.count())
    with pytest.raises(spend_flags.FlagsBlocked) as refused:
        submit(demo_org["emma"], "80.00", category="other")
    assert refused.value.message_dict == {
        "receipt": ["No receipt: one is required from 25.00 EUR."]
    }
    assert refused.value.line_errors == {1: ["No receipt: one is required from 25.00 EUR."]}
    after = (ExpenseRequest.objects.count(), ExpenseLine.objects.count(), LineFlag.objects.count())
    assert after == before


def test_the_block_is_worded_in_german(demo_org):
    from django.utils import translation

    set_checks(receipt="block")
    with translation.override("de"), pytest.raises(spend_flags.FlagsBlocked) as refused:
        submit(demo_org["emma"], "1450.00", category="other")
    assert refused.value.message_dict["receipt"] == [
        "Kein Beleg: ab 25,00 EUR ist einer erforderlich."
    ]


def test_candidates_come_from_at_most_three_indexed_queries(demo_org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    emma = demo_org["emma"]
    for n in range(5):
        submit(emma, f"{100 + n}.00", category="other", receipt=receipt(b"x%d" % n))
    lines = [
        LineFacts(
            position=1,
            date=timezone.localdate(),
            category="other",
            amount_minor=10_000,
            currency="EUR",
            base_cents=10_000,
            merchant_key="bag shop",
            receipt_sha256="0" * 64,
        )
    ]
    with CaptureQueriesContext(connection) as queries:
        history = spend_flags.history_for(
            lines, requester=emma, checks=demo_checks(), exclude_request=None
        )
    assert len(queries.captured_queries) == 3
    assert len({p.request_id for p in history.lines}) == 5  # emma's recent reports (splits)


@pytest.mark.parametrize(
    ("where", "index"),
    [
        ("receipt_sha256 = %s", "line_receipt_hash"),
        ("merchant_key = %s AND date BETWEEN '2026-01-01' AND '2026-01-07'", "line_merchant_date"),
    ],
)
def test_the_duplicate_queries_use_their_index(demo_org, where, index):
    """With enough rows that a scan is not the cheaper plan, the planner takes the index."""
    request = submit(demo_org["emma"], "10.00", category="other")
    ExpenseLine.objects.bulk_create(
        ExpenseLine(
            request=request,
            position=n + 2,
            date=timezone.localdate(),
            category="other",
            amount=Decimal("10.00"),
            currency="EUR",
            merchant_key=f"shop {n}",
            receipt_sha256=f"{n:064d}",
            base_amount_cents=1000,
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE approvals_expenseline")
        cursor.execute(
            f"EXPLAIN SELECT * FROM approvals_expenseline WHERE {where}",
            ["shop 7" if "merchant" in where else f"{7:064d}"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def test_checks_off_flag_nothing(demo_org):
    PolicyVersion.objects.filter(number=1).update(
        rules={**PolicyVersion.objects.get(number=1).rules, "checks": {}}
    )
    request = submit(demo_org["emma"], "999.00", category="other")
    assert codes(request) == []
    assert SpendChecks.from_dict({}).receipt == "off"
