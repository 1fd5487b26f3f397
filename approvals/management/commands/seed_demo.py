from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User
from approvals.models import ApprovalPolicy

# username, first, last, role, title, reports_to
DEMO = [
    ("victor", "Victor", "Vogel", Role.VP, "VP Finance", None),
    ("diana", "Diana", "Dietrich", Role.DIRECTOR, "Director", "victor"),
    ("max", "Max", "Müller", Role.MANAGER, "Team Manager", "diana"),
    ("maria", "Maria", "Meier", Role.MANAGER, "Team Manager", "diana"),
    ("emma", "Emma", "Engel", Role.EMPLOYEE, "Engineer", "max"),
    ("finn", "Finn", "Fischer", Role.EMPLOYEE, "Analyst", "maria"),
    ("admin", "Ada", "Admin", Role.ADMIN, "Auditor", None),
]


class Command(BaseCommand):
    help = "Create or reset the demo organisation (idempotent; password 'demo')."

    @transaction.atomic
    def handle(self, *args, **options):
        for username, first, last, role, title, manager in DEMO:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name, user.role, user.title = first, last, role, title
            user.email = f"{username}@example.com"
            user.is_active = True
            user.is_staff = user.is_superuser = username == "admin"
            user.reports_to = User.objects.get(username=manager) if manager else None
            user.set_password("demo")
            user.save()
        ApprovalPolicy.current()
        self.stdout.write(self.style.SUCCESS(f"demo organisation ready: {len(DEMO)} people"))
