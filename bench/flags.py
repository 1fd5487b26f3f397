"""Submission with the spend checks (issue 27) over 100,000 past lines in PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/approvals_bench_flags \
        .venv/bin/python bench/flags.py [ROUNDS] [PAST_LINES]      # or: make bench-flags

No Temporal: the database is dropped, created, migrated, seeded (`seed_demo`) and
loaded with PAST_LINES (100,000) past lines, bulk-created: 4 lines a report, every
person of the demo, 2,000 merchants, receipts with distinct hashes, dates spread
over the last year; then ANALYZE. Each round runs inside a transaction that is
rolled back (so nothing is added and no workflow is started):
- `flags_for`: the checks of one line with a merchant and a receipt (all three
  candidate queries: receipt hash, merchant+date window, the requester's recent
  reports) and the pure evaluation;
- `expense_submit`: the service call of a one-line report with a receipt;
- `POST /requests/new/`: the form post as a browser sends it (Django's test client,
  session login), form validation, the service and the redirect.
Prints p50/p95 wall time and SQL statements per call, and EXPLAIN of the three
candidate queries (which index each uses). Speed is measured here, never asserted
in tests.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/approvals_bench_flags"


def setup() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-flags-not-a-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost,testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("TEMPORAL_PAYLOAD_KEYS", "bench:" + "A" * 43 + "=")  # throw-away
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault(
        "REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Pages render without `collectstatic` (the manifest is a deployment's; not measured).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)


class Counter:
    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements += 1
        return execute(sql, params, many, context)


def load(past_lines: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from approvals.models import ExpenseLine, ExpenseRequest

    people = list(User.objects.all())
    rng = random.Random(27)
    reports = past_lines // 4
    today = timezone.localdate()
    requests = ExpenseRequest.objects.bulk_create(
        [
            ExpenseRequest(
                requester=people[i % len(people)],
                title=f"Past {i}",
                amount=Decimal("400.00"),
                currency="EUR",
                category="travel",
                status="approved",
                base_amount_cents=40_000,
                fx_rate=Decimal(1),
                fx_rate_date=today,
            )
            for i in range(reports)
        ],
        batch_size=5000,
    )
    lines = []
    for n, request in enumerate(requests):
        for position in range(1, 5):
            k = n * 4 + position
            cents = rng.randint(500, 30_000)
            lines.append(
                ExpenseLine(
                    request=request,
                    position=position,
                    date=today - timedelta(days=rng.randint(0, 365)),
                    merchant=f"Merchant {k % 2000}",
                    merchant_key=f"merchant {k % 2000}",
                    category=rng.choice(["travel", "meals", "other", "equipment"]),
                    amount=Decimal(cents) / 100,
                    currency="EUR",
                    receipt_sha256=f"{k:064x}",
                    base_amount_cents=cents,
                )
            )
    ExpenseLine.objects.bulk_create(lines, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE approvals_expenserequest"
            " SET created_at = now() - random() * interval '365 days' WHERE title LIKE 'Past %%'"
        )
        cursor.execute("ANALYZE")


def stats(name: str, rows: list[tuple[float, int]]) -> str:
    walls = sorted(r[0] * 1000 for r in rows)
    p95 = walls[max(0, int(len(walls) * 0.95) - 1)]
    sql = statistics.mean(r[1] for r in rows)
    return f"| {name} | {statistics.median(walls):.2f} | {p95:.2f} | {sql:.1f} |"


class Rollback(Exception):
    pass


def main(rounds: int, past_lines: int) -> None:
    setup()
    started = time.perf_counter()
    load(past_lines)
    loaded = time.perf_counter() - started
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from approvals import services
    from approvals.models import ExpenseLine
    from approvals.policy.versions import effective_version, rules_of
    from approvals.services import flags as spend_flags
    from approvals.spend_checks import checks_of

    emma = User.objects.get(username="emma")
    rules = rules_of(effective_version())
    client = Client()
    client.force_login(emma)
    samples: dict[str, list[tuple[float, int]]] = {}

    def timed(name, fn):
        counter = Counter()
        try:
            with transaction.atomic():
                with connection.execute_wrapper(counter):
                    wall = time.perf_counter()
                    fn()
                    wall = time.perf_counter() - wall
                raise Rollback
        except Rollback:
            pass
        samples.setdefault(name, []).append((wall, counter.statements))

    for i in range(rounds + 10):  # 10 warm-up rounds
        day = timezone.localdate()
        merchant = f"Merchant {i % 2000}"

        def check(i=i, day=day, merchant=merchant):
            line = ExpenseLine(
                position=1,
                date=day,
                merchant=merchant,
                category="travel",
                amount=Decimal("240.00"),
                currency="EUR",
                base_amount_cents=24_000,
                receipt_sha256=f"{(i * 37) % past_lines:064x}",
            )
            spend_flags.fill_keys(line)
            spend_flags.flags_for(
                lines=[line], requester=emma, rules=rules, day=day, total_cents=24_000
            )

        def submit(i=i):
            services.expense_submit(
                requester=emma,
                title="Hotel",
                amount=Decimal("240.00"),
                currency="EUR",
                category="travel",
                description="Hotel, 1 night",
                receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4 " + str(i).encode()),
            )

        def post(i=i):
            response = client.post(
                "/requests/new/",
                {
                    "title": "Hotel",
                    "amount": "240.00",
                    "currency": "EUR",
                    "category": "travel",
                    "receipt": SimpleUploadedFile(
                        "r.pdf",
                        b"%PDF-1.4 post " + str(i).encode() + b"\n%%EOF\n",
                        "application/pdf",
                    ),
                },
            )
            assert response.status_code == 302, (response.status_code, response.content[-800:])

        timed("flags_for (3 candidate queries + evaluate)", check)
        timed("expense_submit (service)", submit)
        timed("POST /requests/new/", post)

    print(
        f"flags bench — {ExpenseLine.objects.count():,} lines in PostgreSQL "
        f"(loaded in {loaded:.0f} s), {rounds} rounds after 10 warm-up"
    )
    print("| call | p50 ms | p95 ms | SQL statements |")
    print("|---|---:|---:|---:|")
    for name, rows in samples.items():
        print(stats(name, rows[10:]))
    checks = checks_of(rules)
    day = timezone.localdate()
    from approvals.models import ExpenseRequest

    plans = {
        "receipt hash": ExpenseLine.objects.filter(receipt_sha256=f"{7:064x}"),
        "merchant + date window": ExpenseLine.objects.filter(
            merchant_key="merchant 7",
            date__range=(day - timedelta(days=checks.near_days), day),
        ),
        "requester's recent reports": ExpenseLine.objects.filter(
            request_id__in=ExpenseRequest.objects.filter(
                requester=emma, created_at__gte=timezone.now() - timedelta(days=8)
            ).values("pk")
        ),
    }
    for name, queryset in plans.items():
        print(f"\nEXPLAIN ({name}):")
        print(queryset.order_by().values("request_id", "position").explain())


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 200,
        int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
    )
    sys.stdout.flush()
    os._exit(0)
