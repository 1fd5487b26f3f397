"""The suite's flush between `transaction=True` tests (tests/conftest.py, DELETE instead
of TRUNCATE) leaves every table empty, as Django's TRUNCATE did, except the rows the
post_migrate signal derives from the models."""

from __future__ import annotations

import os

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from tests.conftest import KEPT_BY_FLUSH


@pytest.mark.django_db(transaction=True)
def test_the_flush_between_tests_empties_every_table_but_the_derived_ones():
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", stdout=devnull)
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed]
    filled = {m._meta.db_table for m in models if m.objects.exists()}
    # Users point at cost centres and groups: rows with foreign keys both ways.
    assert {"accounts_user", "accounts_user_groups", "payouts_costcentre"} <= filled

    call_command("flush", verbosity=0, interactive=False)  # what pytest-django calls

    left = {m._meta.db_table for m in models if m.objects.exists()}
    assert left == set(KEPT_BY_FLUSH)
    assert ContentType.objects.filter(app_label="approvals", model="expenserequest").exists()
    assert Permission.objects.filter(codename="add_expenserequest").exists()
