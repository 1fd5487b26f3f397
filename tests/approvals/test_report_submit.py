"""services.expense_submit with lines: headline, per-currency pinned rates, the total's
policy check, the workflow input's lines (no Temporal needed: nothing is committed)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from approvals import services
from approvals.lines import LineData, headline
from approvals.models import ExchangeRate, ExpenseLine
from approvals.temporal.starter import workflow_input
from approvals.workflow.contract import LineInput

pytestmark = pytest.mark.django_db


def line(amount: str, currency: str = "EUR", category: str = "travel", **extra) -> LineData:
    return LineData(amount=Decimal(amount), currency=currency, category=category, **extra)


def submit(user, *lines: LineData, title="Trip"):
    return services.expense_submit(requester=user, title=title, lines=list(lines))


def test_emmas_trip_with_a_gbp_dinner(demo_org):
    gbp = ExchangeRate.objects.filter(currency="GBP").order_by("-rate_date").first()
    request = submit(
        demo_org["emma"],
        line("38.50", merchant="Taxi"),
        line("312.00", merchant="Hotel"),
        line("89.90", merchant="DB"),
        line("124.00", "GBP", "meals", merchant="The Ivy", attendees="Ms Smith"),
    )
    lines = list(request.lines.order_by("position"))
    dinner_eur = (Decimal("124.00") / gbp.rate * 100).quantize(Decimal(1))
    assert lines[3].base_amount_cents == int(dinner_eur)  # at the day's GBP rate
    assert [ln.base_amount_cents for ln in lines[:3]] == [3850, 31200, 8990]
    total = 3850 + 31200 + 8990 + int(dinner_eur)
    # Mixed currencies: the headline is the EUR total, in EUR; the largest line's category.
    assert (request.amount, request.currency) == (Decimal(total) / 100, "EUR")
    assert request.base_amount_cents == total
    assert request.category == "travel" and request.fx_rate == 1


def test_one_currency_reports_sum_in_it_and_pin_its_rate(demo_org):
    gbp = ExchangeRate.objects.filter(currency="GBP").order_by("-rate_date").first()
    request = submit(demo_org["emma"], line("10.00", "GBP"), line("20.00", "GBP", "meals"))
    assert (request.amount, request.currency, request.category) == (
        Decimal("30.00"),
        "GBP",
        "meals",
    )
    assert request.fx_rate == gbp.rate and request.fx_rate_date == gbp.rate_date
    assert request.base_amount_cents == sum(ln.base_amount_cents for ln in request.lines.all())


def test_a_one_line_report_is_that_line(demo_org):
    request = submit(demo_org["emma"], line("1500", "JPY", "software"))
    assert (request.amount, request.currency, request.category) == (
        Decimal("1500"),
        "JPY",
        "software",
    )


def test_the_maximum_applies_to_the_total(demo_org):
    with pytest.raises(ValidationError) as refused:
        submit(demo_org["emma"], line("600000.00"), line("500000.00"))
    assert "1,100,000.00 EUR" in refused.value.messages[0]
    assert not ExpenseLine.objects.exists()


def test_refusals_name_their_line(demo_org):
    ExchangeRate.objects.filter(currency="CHF").delete()
    with pytest.raises(ValidationError) as refused:
        submit(demo_org["emma"], line("10.00"), line("20.00", "CHF"), line("12.5", "JPY"))
    assert set(refused.value.message_dict) == {"lines.2.currency", "lines.3.amount"}


def test_the_workflow_input_carries_each_line(demo_org):
    request = submit(demo_org["emma"], line("38.50"), line("124.00", "GBP", "meals"))
    request.refresh_from_db()
    inp = workflow_input(request)
    dinner = request.lines.get(position=2)
    assert inp.lines == [
        LineInput(
            n=1, amount_cents=3850, currency="EUR", base_amount_cents=3850, category="travel"
        ),
        LineInput(
            n=2,
            amount_cents=12400,
            currency="GBP",
            base_amount_cents=dinner.base_amount_cents,
            category="meals",
        ),
    ]
    assert inp.base_amount_cents == 3850 + dinner.base_amount_cents


@pytest.mark.parametrize(
    ("amounts", "currencies", "expected"),
    [
        (["1.00"], ["GBP"], ("1.00", "GBP", "a")),
        (["1.00", "2.00"], ["GBP", "GBP"], ("3.00", "GBP", "b")),
        (["1.00", "2.00"], ["EUR", "GBP"], ("3.30", "EUR", "b")),
        (["5.00", "5.00"], ["EUR", "EUR"], ("10.00", "EUR", "a")),  # a tie: the first line
    ],
)
def test_headline_table(amounts, currencies, expected):
    lines = [
        LineData(amount=Decimal(a), currency=c, category=cat)
        for a, c, cat in zip(amounts, currencies, "ab", strict=False)
    ]
    base = {("1.00", "GBP"): 120, ("2.00", "GBP"): 230, ("1.00", "EUR"): 100}
    cents = [
        base.get((a, c), int(Decimal(a) * 100)) for a, c in zip(amounts, currencies, strict=True)
    ]
    head = headline(lines, cents)
    assert (str(head.amount), head.currency, head.category) == expected
    assert head.base_amount_cents == sum(cents)
