from pathlib import Path

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.bank import make_iban
from accounts.models import FINANCE_GROUP, IT_GROUP, Role, User
from approvals import ports
from approvals.models import ApprovalPolicy
from approvals.policy.versions import ensure_demo_policy
from approvals.services.fx import fx_rates_load

# The shipped ECB reference rates (daily file), so submissions in other currencies
# can be converted to EUR on a fresh machine. Load newer ones with load_fx_rates.
RATES_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "eurofxref.csv"

# username, first, last, role, title, reports_to, groups (managers first)
DEMO = [
    ("victor", "Victor", "Vogel", Role.VP, "VP Finance", None, []),
    ("diana", "Diana", "Dietrich", Role.DIRECTOR, "Director", "victor", []),
    ("max", "Max", "Müller", Role.MANAGER, "Team Manager", "diana", []),
    ("maria", "Maria", "Meier", Role.MANAGER, "Team Manager", "diana", []),
    ("emma", "Emma", "Engel", Role.EMPLOYEE, "Engineer", "max", []),
    ("finn", "Finn", "Fischer", Role.EMPLOYEE, "Analyst", "maria", []),
    ("fiona", "Fiona", "Fuchs", Role.FINANCE, "Head of Finance", "victor", [FINANCE_GROUP]),
    ("felix", "Felix", "Falk", Role.FINANCE, "Accountant", "fiona", [FINANCE_GROUP]),
    ("ivan", "Ivan", "Iwanow", Role.IT_LEAD, "IT Lead", "victor", [IT_GROUP]),
    ("admin", "Ada", "Admin", Role.ADMIN, "Auditor", None, []),
]


# Demo reports: (requester, title, lines of (merchant, category, amount, currency, days ago)).
DEMO_REPORTS = [
    (
        "emma",
        "Customer visit London",
        [
            ("Taxi Berlin", "travel", "38.50", "EUR", 9),
            ("Hotel am Markt", "travel", "312.00", "EUR", 8),
            ("Deutsche Bahn", "travel", "89.90", "EUR", 8),
            ("The Ivy", "meals", "124.00", "GBP", 7),
        ],
    ),
    (
        "finn",
        "Team workshop",
        [
            ("Bäckerei Schmidt", "meals", "46.20", "EUR", 5),
            ("Copyshop", "other", "18.75", "EUR", 5),
        ],
    ),
    (
        "emma",
        "Conference Zurich",
        [
            ("PyCon CH", "training", "420.00", "CHF", 20),
            ("SBB", "travel", "96.40", "CHF", 20),
            ("Hotel Limmat", "travel", "540.00", "CHF", 19),
        ],
    ),
]


def demo_reports() -> int:
    """Submit the demo reports once (a fixed submit token per report)."""
    import uuid
    from datetime import timedelta
    from decimal import Decimal

    from approvals.lines import LineData
    from approvals.services.requests import expense_submit

    today = timezone.localdate()
    made = 0
    for index, (username, title, lines) in enumerate(DEMO_REPORTS):
        requester = User.objects.get(username=username)
        token = uuid.uuid5(uuid.NAMESPACE_URL, f"approvals-demo-report-{index}")
        if requester.expense_requests.filter(submit_token=token).exists():
            continue
        expense_submit(
            requester=requester,
            title=title,
            submit_token=token,
            lines=[
                LineData(
                    amount=Decimal(amount),
                    currency=currency,
                    category=category,
                    merchant=merchant,
                    date=today - timedelta(days=ago),
                    attendees="Ms Smith (ACME)" if category == "meals" else "",
                )
                for merchant, category, amount, currency, ago in lines
            ],
        )
        made += 1
    return made


def demo_iban(index: int) -> str:
    """A checksum-valid demo IBAN (German bank code 37040044, account 05320130<nn>); from
    01 on, since 00 is the demo company's own account (PAYOUT_COMPANY_IBAN)."""
    return make_iban("DE", f"3704004405320130{index + 1:02d}")


class Command(BaseCommand):
    help = (
        "Create or reset the demo organisation (idempotent; password 'demo'), "
        "its finance and IT groups, the default policy (version 1) and the shipped "
        "exchange rates."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reports",
            action="store_true",
            help="Also submit a few expense reports of several lines (once; their "
            "workflows start when Temporal is reachable, else by the reconciler).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        groups = {
            name: Group.objects.get_or_create(name=name)[0] for name in (FINANCE_GROUP, IT_GROUP)
        }
        people = {}
        for index, (username, first, last, role, title, manager, member_of) in enumerate(DEMO):
            user, _ = User.objects.get_or_create(username=username)
            user.iban, user.bic = demo_iban(index), "COBADEFFXXX"
            user.first_name, user.last_name, user.role, user.title = first, last, role, title
            user.email = f"{username}@example.com"
            user.is_active = True
            user.is_staff = user.is_superuser = username == "admin"
            user.reports_to = User.objects.get(username=manager) if manager else None
            user.set_password("demo")
            user.save()
            user.groups.set([groups[name] for name in member_of])
            people[username] = user
        # What the installed apps add once the people exist (payouts: their cost centres),
        # before the demo reports, whose routing reads the cost centre.
        ports.seed_demo(people)
        ApprovalPolicy.current()
        ensure_demo_policy()  # version 1, the contract's default policy (kept if it exists)
        rates = fx_rates_load(path=RATES_FILE)
        if options.get("reports"):
            made = demo_reports()
            self.stdout.write(f"demo reports: {made} submitted")
        self.stdout.write(
            self.style.SUCCESS(
                f"demo organisation ready: {len(DEMO)} people; "
                f"{rates.rates} exchange rates of {rates.last_date}"
            )
        )
