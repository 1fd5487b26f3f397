"""A signed-in HTTP client on one keep-alive connection, like a browser tab.

Plain http.client so the client adds next to nothing to what is measured;
cookies are kept by hand (the session cookie is `Secure` with DEBUG off, and
loopback HTTP is what we measure).
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from http.cookies import SimpleCookie


class WebClient:
    IDLE_RECONNECT = 3.0  # uvicorn drops idle keep-alive connections after 5 s

    def __init__(self, host: str, port: int, username: str, password: str = "demo") -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    # -------------------------------------------------------------- plumbing
    def _connection(self) -> http.client.HTTPConnection:
        """Reconnect before timing starts when the server may have closed an idle one."""
        idle = time.monotonic() - self.last_used
        if self.conn is None or idle > self.IDLE_RECONNECT:
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.conn.connect()
        return self.conn

    def prepare(self) -> None:
        """Call outside the timed section: opens a fresh connection if needed."""
        self._connection()

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self, method: str, path: str, data: dict | None = None, headers: dict | None = None
    ) -> tuple[int, str, dict]:
        conn = self._connection()
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        all_headers = {"Host": f"{self.host}:{self.port}", "Cookie": self.cookie_header()}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        self.last_used = time.monotonic()
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            self.conn = None
        return response.status, text, dict(response.getheaders())

    # ---------------------------------------------------------------- actions
    def sign_in(self) -> WebClient:
        status, page, _ = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        status, _, _ = self.request(
            "POST",
            "/accounts/login/",
            {
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"sign-in of {self.username} failed with HTTP {status}")
        return self

    def inbox(self) -> tuple[int, str]:
        status, text, _ = self.request("GET", "/inbox/")
        return status, text

    def approve(self, pk: int, *, decision_id: str, level: int = 1) -> tuple[int, str]:
        """What the inbox row's Approve button sends (htmx, into the row's message slot)."""
        status, text, _ = self.request(
            "POST",
            f"/requests/{pk}/decide/",
            {"action": "approve", "decision_id": decision_id, "level": level, "comment": ""},
            headers={"HX-Request": "true", "HX-Target": f"row-msg-{pk}"},
        )
        return status, text
