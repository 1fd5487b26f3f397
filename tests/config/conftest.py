"""Fixtures for tests that start Django in a subprocess with a chosen environment
(helpers: tests/support/processes.py)."""

from __future__ import annotations

import base64
import secrets

import pytest

from tests.support.processes import clean_env


@pytest.fixture
def production_env(tmp_path):
    """What an operator sets in production: a long random secret, payload keys, hosts,
    PostgreSQL."""
    return clean_env(
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        TEMPORAL_PAYLOAD_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="approvals.example.com",
        CSRF_TRUSTED_ORIGINS="https://approvals.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/approvals",
    )
