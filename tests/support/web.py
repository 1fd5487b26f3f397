"""The web side as a user sees it: signed-in Django test clients, the inbox page,
decisions posted like the inbox row does, and an HTTP user for a real server."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

from django.test import Client

from .waiting import wait_for

HTMX = {"HX-Request": "true"}
ROW_ID = re.compile(r'data-testid="inbox-row" data-request-id="(\d+)"')
NOT_YOURS = "You cannot decide this request."


def client_for(user, **kwargs) -> Client:
    """A Django test client signed in as `user`."""
    client = Client(**kwargs)
    client.force_login(user)
    return client


def inbox_ids(client: Client, query: str = "") -> list[int]:
    response = client.get(f"/inbox/{query}")
    assert response.status_code == 200
    return [int(pk) for pk in ROW_ID.findall(response.content.decode())]


def wait_inbox(client: Client, expected: set[int], query: str = "", exact: bool = True):
    """Poll until the inbox (eventually consistent) shows `expected`; return its ids in order."""

    def check():
        ids = inbox_ids(client, query)
        shown = set(ids)
        ok = shown == expected if exact else expected <= shown
        return ids if ok else None

    return wait_for(check, timeout=20, message=f"inbox never showed {sorted(expected)}")


def wait_not_in_inbox(client: Client, pk: int, query: str = ""):
    wait_for(lambda: pk not in inbox_ids(client, query), message=f"{pk} stayed in the inbox")


def post_decision(client: Client, pk: int, action: str = "approve", **data):
    """POST a decision like the inbox row does (htmx, targeting the row's message slot)."""
    return client.post(
        f"/requests/{pk}/decide/",
        {"action": action, "decision_id": str(uuid.uuid4()), **data},
        headers={**HTMX, "HX-Target": f"row-msg-{pk}"},
    )


def assert_refused(response, words: str) -> None:
    """The decision was refused in the row, with `words` in the message."""
    assert response.status_code == 200  # htmx 2 swaps only 2xx
    html = response.content.decode()
    assert 'data-testid="decision-refused"' in html, html
    assert words in html, html
    assert "HX-Retarget" not in response  # the row stays, with the words in it


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

    def get(self, path: str) -> tuple[int, str]:
        if not self.signed_in:
            self.sign_in()
        return self._request("GET", path)

    def decide(
        self,
        pk: int,
        *,
        action: str,
        decision_id: str,
        level: int,
        comment: str = "",
        extra: dict | None = None,
    ):
        """`extra`: more fields of the decide form (say `reject_line` and its reason)."""
        if not self.signed_in:
            self.sign_in()
        return self._request(
            "POST",
            f"/requests/{pk}/decide/",
            # The password answers the step-up an approval above STEP_UP_EUR asks for (a
            # person types it into the prompt); smaller decisions never read it.
            {
                "action": action,
                "decision_id": decision_id,
                "level": level,
                "comment": comment,
                "password": self.password,
                **(extra or {}),
            },
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
