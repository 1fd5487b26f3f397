"""The default policy (version 1, written by migration 0006) gains the default spend
checks (issue 27): only while it is exactly that default without checks. Routing is
unchanged, and the checks run at submission only, so no submitted request changes.
A version an administrator published is never touched. Written out, not imported."""

from django.db import migrations

DEFAULT_CHECKS = {
    "receipt": "warn",
    "receipt_from_cents": 2_500,
    "receipt_from_by_category": {},
    "limits": "warn",
    "category_limits": [
        {"category": "travel", "cents": 20_000, "per": "night", "match": "hotel"},
        {"category": "meals", "cents": 6_000, "per": "person", "match": ""},
    ],
    "duplicates": "warn",
    "near_duplicates": "warn",
    "near_tolerance_percent": 5,
    "near_days": 3,
    "splits": "warn",
    "split_days": 7,
    "weekend": "off",
    "holiday": "off",
}


def add_default_checks(apps, schema_editor):
    PolicyVersion = apps.get_model("approvals", "PolicyVersion")
    version = PolicyVersion.objects.filter(number=1, created_by__isnull=True).first()
    if version is None or "checks" in (version.rules or {}):
        return
    if version.note != "Default policy (DESIGN.md §2)":
        return
    version.rules = {**version.rules, "checks": DEFAULT_CHECKS}
    version.save(update_fields=["rules"])


class Migration(migrations.Migration):
    dependencies = [("approvals", "0012_flags_lineflag")]

    operations = [migrations.RunPython(add_default_checks, migrations.RunPython.noop)]
