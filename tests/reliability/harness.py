"""Processes for fault-injection tests: a Temporal dev server on a data file, a
worker process and a web process, each killable with SIGKILL and restartable,
plus a small HTTP client that signs in and posts decisions like a browser.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.conftest import DevServer, free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]


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


class RestartableDevServer(DevServer):
    """The dev server on a data file: killed with -9 and started on the same file and port."""

    restarts = 0

    def kill(self) -> None:
        self.stop(kill=True)

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.start()


def process_env(*, database_name: str, temporal: str, task_queue: str, port: int = 0) -> dict:
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


class WebUser:
    """Signs in over HTTP and posts forms with the CSRF token, like a browser without JS."""

    def __init__(self, base_url: str, username: str, password: str = "demo") -> None:
        self.base_url, self.username, self.password = base_url, username, password
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.signed_in = False

    def _csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def _request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            request.add_header("X-CSRFToken", self._csrf())
            request.add_header("Referer", self.base_url + path)
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def sign_in(self) -> None:
        status, page = self._request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        status, _ = self._request(
            "POST",
            "/accounts/login/",
            {
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {self.username} failed with {status}")
        self.signed_in = True

    def decide(self, pk: int, *, action: str, decision_id: str, level: int, comment: str = ""):
        if not self.signed_in:
            self.sign_in()
        return self._request(
            "POST",
            f"/requests/{pk}/decide/",
            {"action": action, "decision_id": decision_id, "level": level, "comment": comment},
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


__all__ = ["ManagedProcess", "RestartableDevServer", "WebUser", "free_port", "process_env"]
