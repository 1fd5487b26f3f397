"""A GIN index (jsonb_path_ops) on the pending requests' `pending_approvers`, so the
navigation badge, the inbox's record fallback and the home page find the requests that
wait on a person with the index instead of reading every pending row (issue 28: 5,000
open requests, a badge on every page view).

PostgreSQL only (the `@>` the ORM's `__contains` emits on a JSONField); SQLite, the
embedded default, filters in Python and gets nothing here. Not in the model's Meta
(a GinIndex there would be created on SQLite too), so the model state is unchanged.
"""

from django.db import migrations

NAME = "expense_pending_approvers_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON approvals_expenserequest "
            "USING gin (pending_approvers jsonb_path_ops) WHERE status = 'pending'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("approvals", "0010_submit_report_rounds")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
