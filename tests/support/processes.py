"""Subprocesses with a chosen environment: Django one-shots (`python -c`, `manage.py
check`) for the settings tests, and killable `manage.py` servers for the
fault-injection tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from . import ROOT
from .servers import wait_port

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
    "TEMPORAL_PAYLOAD_KEYS",
    "TRUSTED_PROXY_COUNT",
    "CODEC_TOKEN",
    "TEMPORAL_UI_ORIGIN",
    "APPROVALS_DIGEST_TIME",
    "APPROVALS_OVERDUE_REPORT_DAY",
    "APPROVALS_OVERDUE_REPORT_TIME",
    "APPROVALS_SCHEDULE_CATCHUP_SECONDS",
    "REGISTER_SCHEDULES",
    "REGISTER_SCHEDULES_WAIT",
}


def clean_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """This environment without anything the settings read, plus `overrides`."""
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


def settings_eval(expression: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Print `expression` over `settings` as config/settings.py computes it from `env`,
    without django.setup(): the settings module alone imports in ~0.2 s of CPU, the
    apps ~3 s, and reading a setting is what the settings tests check."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({expression}, default=str))"
    )
    return run([sys.executable, "-c", code], env)


class ManagedProcess:
    """A `manage.py` subprocess that can be killed (-9) and started again."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, port: int | None = None):
        self.args, self.env, self.log, self.port = args, env, log, port
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.port:
            wait_port(self.port, 60)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def process_env(*, database_name: str, temporal: str, task_queue: str, port: int = 0) -> dict:
    """The environment of a web or worker process of the fault-injection tests."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database_name}",
        TEMPORAL_ADDRESS=temporal,
        TEMPORAL_TASK_QUEUE=task_queue,
        RECONCILE_INTERVAL_SECONDS="1",
        TEMPORAL_CALL_TIMEOUT="5",
        AXES_ENABLED="0",
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    if port:
        env["PORT"] = str(port)
    return env
