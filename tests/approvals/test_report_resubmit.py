"""Request changes → resubmit a report: lines edited, added, removed, receipts replaced;
the workflow gets the new lines and total; approvers see what changed, line by line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from approvals.lines import LineData
from approvals.models import ExpenseLine, ExpenseRequest, ReportRound
from tests.approvals.test_views_requests import real_png
from tests.support.requests import state_of, wait_pending_level, wait_status
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def changes_requested(demo_org) -> ExpenseRequest:
    request = services.expense_submit(
        requester=demo_org["emma"],
        title="Hamburg",
        lines=[
            LineData(amount=Decimal("38.50"), currency="EUR", category="travel", merchant="Taxi"),
            LineData(amount=Decimal("312.00"), currency="EUR", category="travel", merchant="Hotel"),
        ],
    )
    wait_for(
        lambda: ExpenseRequest.objects.filter(pk=request.pk, pending_approvers=["max"]).exists()
    )
    request.refresh_from_db()
    services.decision_record(
        request=request, actor=demo_org["max"], action="request_changes", comment="Dinner?"
    )
    return wait_status(request, "changes_requested")


def form_data(html: str) -> dict:
    """The resubmit form's lines as the page offers them (values as rendered)."""
    data = {"title": "Hamburg, corrected", "comment": "Taxi fixed, dinner added"}
    part = html.split('data-testid="resubmit-form"', 1)[1].split("</form>", 1)[0]
    for name in ("lines-TOTAL_FORMS", "lines-INITIAL_FORMS"):
        data[name] = part.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]
    for n in range(int(data["lines-TOTAL_FORMS"])):
        for field in ("amount", "merchant", "keep", "date"):
            marker = f'name="lines-{n}-{field}" value="'
            if marker in part:
                data[f"lines-{n}-{field}"] = part.split(marker, 1)[1].split('"', 1)[0]
        data[f"lines-{n}-currency"] = "EUR"
        data[f"lines-{n}-category"] = "travel"
    return data


def test_resubmitting_edited_lines_starts_a_new_round_the_approver_can_compare(demo_org, worker):
    request = changes_requested(demo_org)
    emma = client_for(demo_org["emma"], HTTP_ACCEPT_LANGUAGE="de")
    html = emma.get(f"/requests/{request.pk}/").content.decode()
    data = form_data(html)
    assert data["lines-TOTAL_FORMS"] == "2" and data["lines-0-keep"] == "1"
    assert data["lines-0-amount"] == "38,50"  # spelled for the German reader
    data["lines-0-amount"] = "40,00"  # the taxi corrected
    data["lines-1-DELETE"] = "on"  # the hotel removed
    data.update(  # the dinner added, in GBP, with its receipt
        {
            "lines-TOTAL_FORMS": "3",
            "lines-2-amount": "124,00",
            "lines-2-currency": "GBP",
            "lines-2-category": "meals",
            "lines-2-merchant": "The Ivy",
            "lines-2-attendees": "Ms Smith",
            "lines-2-receipt": SimpleUploadedFile("d.png", real_png(), content_type="image/png"),
        }
    )
    response = emma.post(f"/requests/{request.pk}/resubmit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    state = wait_pending_level(request, 1)
    request.refresh_from_db()
    lines = list(request.lines.order_by("position"))
    assert [(ln.position, ln.amount, ln.currency) for ln in lines] == [
        (1, Decimal("40.00"), "EUR"),
        (2, Decimal("124.00"), "GBP"),
    ]
    assert lines[1].receipt and lines[1].receipt_sha256 and lines[1].attendees == "Ms Smith"
    total = 4000 + lines[1].base_amount_cents
    assert request.base_amount_cents == total and request.amount == Decimal(total) / 100
    assert state.round == 2 and state.title == "Hamburg, corrected"
    assert state.base_amount_cents == total
    assert [r.round for r in ReportRound.objects.filter(request=request)] == [1, 2]

    page = client_for(demo_org["max"]).get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="line-changes"' in page
    changes = page.split('data-testid="line-changes"', 1)[1].split("</section>", 1)[0]
    assert 'data-kind="changed" data-line="1"' in changes and 'data-field="amount"' in changes
    assert 'data-kind="added" data-line="2"' in changes and "The Ivy" in changes
    assert 'data-kind="removed" data-line="2"' in changes and "Hotel" in changes
    # The requester's own page offers no comparison (she made the changes).
    assert 'data-testid="line-changes"' not in emma.get(f"/requests/{request.pk}/").content.decode()


def test_a_refused_resubmission_leaves_the_lines_as_they_were(demo_org, worker):
    request = changes_requested(demo_org)
    emma = client_for(demo_org["emma"])
    data = form_data(emma.get(f"/requests/{request.pk}/").content.decode())
    assert emma.post(f"/requests/{request.pk}/resubmit/", data).status_code == 302
    wait_pending_level(request, 1)
    data["lines-0-amount"] = "99.00"  # a second tab: no longer changes_requested
    response = emma.post(f"/requests/{request.pk}/resubmit/", data)
    assert response.status_code == 400
    assert "Changes were not requested" in response.content.decode()
    assert ExpenseLine.objects.get(request=request, position=1).amount == Decimal("38.50")
    assert ReportRound.objects.filter(request=request).count() == 2
    assert state_of(request).round == 2


def test_a_bad_line_on_resubmit_is_refused_at_the_line(demo_org, worker):
    request = changes_requested(demo_org)
    emma = client_for(demo_org["emma"])
    data = form_data(emma.get(f"/requests/{request.pk}/").content.decode())
    data["lines-1-amount"] = "abc"
    response = emma.post(f"/requests/{request.pk}/resubmit/", data)
    html = response.content.decode()
    assert response.status_code == 400
    line = html.split('data-line-form="lines-1"', 1)[1]
    assert 'data-testid="error-amount"' in line.split("</fieldset>", 1)[0]
    assert 'value="abc"' in html
    assert ExpenseLine.objects.get(request=request, position=2).amount == Decimal("312.00")


def test_the_submitted_and_resubmitted_steps_audit_list_the_lines(demo_org, worker):
    from approvals.models import AuditEntry

    request = changes_requested(demo_org)
    submitted = AuditEntry.objects.get(request=request, kind="submitted")
    assert [(x["n"], x["merchant"], x["amount"]) for x in submitted.detail["lines"]] == [
        (1, "Taxi", "38.50"),
        (2, "Hotel", "312.00"),
    ]
    emma = client_for(demo_org["emma"])
    data = form_data(emma.get(f"/requests/{request.pk}/").content.decode())
    data["lines-1-DELETE"] = "on"
    assert emma.post(f"/requests/{request.pk}/resubmit/", data).status_code == 302
    entry = wait_for(lambda: AuditEntry.objects.filter(request=request, kind="resubmitted").first())
    assert [x["merchant"] for x in entry.detail["lines"]] == ["Taxi"]
    # The search attributes carry no line content (usernames, amounts, dates, status only).
    from tests.support.requests import describe

    attributes = describe(request.pk).typed_search_attributes
    assert all("Taxi" not in str(pair.value) for pair in attributes)


def test_a_resubmission_runs_the_spend_checks_on_its_new_lines(demo_org, worker):
    """Issue 27: the checks run again on the edited report, under the pinned policy."""
    from approvals.models import LineFlag

    other = services.expense_submit(  # finn's hotel, the same merchant, day and amount
        requester=demo_org["finn"],
        title="Munich",
        lines=[
            LineData(
                amount=Decimal("199.00"),
                currency="EUR",
                category="travel",
                merchant="Hotel Vier Jahreszeiten",
            )
        ],  # fmt: skip
    )
    request = changes_requested(demo_org)
    assert not LineFlag.objects.filter(request=request, code="duplicate").exists()
    services.expense_resubmit(
        request=request,
        actor=demo_org["emma"],
        title="Hamburg",
        comment="hotel corrected",
        lines=[
            LineData(
                amount=Decimal("38.50"),
                currency="EUR",
                category="travel",
                merchant="Taxi",
                origin=1,
            ),
            LineData(
                amount=Decimal("199.00"),
                currency="EUR",
                category="travel",
                merchant="Hotel Vier Jahreszeiten",
                date=other.lines.get().date,
            ),
        ],  # fmt: skip
    )
    flag = LineFlag.objects.get(request=request, code="duplicate")
    assert flag.position == 2
    assert request.audit.filter(kind="flagged", key="flags:round-2").exists()
