"""Browser fixtures: the live app (real ASGI app with the worker in the same
process and loop, real Temporal) and Debian's Chromium driven by Playwright.
Helpers are in tests/support/browser.py and tests/support/servers.py (LiveApp).
"""

from __future__ import annotations

import os

import pytest

from tests.support.axe import AxeWatch
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.servers import LiveApp

# Playwright's sync API keeps an event loop on the test thread; the test's own
# ORM calls are still synchronous (the documented pytest-playwright setting).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def live_app(transactional_db, demo_org, task_queue, temporal_server):
    app = LiveApp(task_queue).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser():
    # Per module, not per session: Playwright's sync API keeps an event loop
    # running on the main thread while it lives, and pytest-django reorders
    # tests so async tests may run after the browser tests (no module here has
    # one). Not per test either: launching Chromium took 2-3 s a test on the
    # 2-core machine. Tests share nothing through it: each page has a context
    # of its own (new_page), with its own cookies, storage and cache.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Factory: a page in its own browser context (own cookies), closed after the test.

    Every page of those contexts is checked with axe-core after each load and at
    the end (tests/support/axe.py); the test fails at teardown with every serious
    or critical violation. `javascript=False` gives a context without JavaScript
    (axe needs it, so those pages are not checked: the suite visits them with it).
    `width` sets a phone-sized viewport.
    """
    contexts = []
    violations: list[str] = []
    axe = AxeWatch()

    def make(locale: str = "en-US", *, javascript: bool = True, width: int | None = None):
        options = {"locale": locale, "java_script_enabled": javascript}
        if width:
            options["viewport"] = {"width": width, "height": 800}
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        if javascript:
            axe.attach(context)
        page = context.new_page()
        # Every browser test also proves the pages run under the CSP without a violation.
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    yield make
    axe.finish()
    for context in contexts:
        context.close()
    assert not violations, "CSP violations:\n" + "\n".join(violations)
    assert not axe.violations, "axe-core (serious, critical):\n" + axe.report()
