"""Browser tests: the real ASGI app (uvicorn) with the worker in the same
process and loop (the embedded mode of `make run`), real Temporal, and
Debian's Chromium driven by Playwright (no browser download).
"""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
import uvicorn

from tests.conftest import free_port, wait_port

# Playwright's sync API keeps an event loop on the test thread; the test's own
# ORM calls are still synchronous (the documented pytest-playwright setting).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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


class LiveApp:
    def __init__(self, task_queue: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.task_queue = task_queue
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: uvicorn.Server | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.worker_ready = threading.Event()

    def _run(self) -> None:
        from approvals.temporal.client import connect
        from approvals.worker import worker as worker_mod
        from config.asgi import application

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            config = uvicorn.Config(
                application, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
            )
            self.server = uvicorn.Server(config)
            client = await connect()
            worker = worker_mod.build_worker(client, task_queue=self.task_queue)
            async with worker:
                self.worker_ready.set()
                await self.server.serve()

        asyncio.run(main())

    def start(self) -> LiveApp:
        self.thread.start()
        self.worker_ready.wait(30)
        wait_port(self.port, 30)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def live_app(transactional_db, demo_org, task_queue, temporal_server):
    app = LiveApp(task_queue).start()
    yield app
    app.stop()


@pytest.fixture
def browser():
    # Per test, not per session: Playwright's sync API keeps an event loop
    # running on the main thread while it lives, and pytest-django reorders
    # tests so async tests may run after the browser tests.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Factory: a page in its own browser context (own cookies), closed after the test."""
    contexts = []

    def make(locale: str = "en-US"):
        context = browser.new_context(locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, app: LiveApp, username: str, password: str = "demo") -> None:
    page.goto(f"{app.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login]")
    page.wait_for_selector("[data-testid=user-name]")


def wait_ws(page) -> None:
    """Wait until the page's websocket is open (live updates can arrive)."""
    page.wait_for_function("document.body.dataset.wsOpen === '1'")
