"""Debian's Chromium for Playwright (no browser download) and page helpers."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def login(page, app, username: str, password: str = "demo") -> None:
    """Sign in through the login form of the live app `app` (a servers.LiveApp)."""
    page.goto(f"{app.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login]")
    # Attached, not visible: on a phone the name is in the folded menu.
    page.wait_for_selector("[data-testid=user-name]", state="attached")


def wait_ws(page) -> None:
    """Wait until the page's websocket is open (live updates can arrive)."""
    # A selector, not wait_for_function: that evals a string, which the CSP forbids.
    page.wait_for_selector("body[data-ws-open='1']", state="attached")


def goto_settled(page, url: str):
    """Open `url` and wait until its load-triggered htmx requests (the badge, a lazy part)
    have landed; the response of the page itself.

    Cheaper than `wait_until="networkidle"`, which always adds 500 ms of quiet: htmx marks
    an element `.htmx-request` while its request is in flight, from before the load event.
    """
    response = page.goto(url, wait_until="load")
    page.wait_for_selector(".htmx-request", state="detached")
    return response
