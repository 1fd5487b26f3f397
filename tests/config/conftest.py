"""Helpers for tests that start Django in a subprocess with a chosen environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables the settings read; a subprocess starts from none of them unless a test sets it.
SETTINGS_VARS = {
    "DJANGO_DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DATABASE_TEST_NAME",
    "REDIS_URL",
    "TEMPORAL_ADDRESS",
    "STATICFILES_BACKEND",
    "WHITENOISE_USE_FINDERS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_MIGRATE",
}


def clean_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    # DJANGO_*: e.g. the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy flags.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS_VARS and not k.startswith("DJANGO_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        APPROVALS_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "staticfiles"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.update(overrides)
    return env


@pytest.fixture
def production_env(tmp_path):
    """What an operator sets in production: a long random secret, hosts, PostgreSQL."""
    return clean_env(
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="approvals.example.com",
        CSRF_TRUSTED_ORIGINS="https://approvals.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/approvals",
    )


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def django_eval(expression: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Print `expression` evaluated with settings loaded from `env`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({expression}, default=str))"
    )
    return run([sys.executable, "-c", code], env)
