#!/usr/bin/env python
"""Walk the four journeys (employee, manager, second approver, administrator) in English
and German, at 1280 and 375 px, with Chromium, and write a screenshot per step into
docs/screenshots/journeys/ for review. Run it before each release and look at them.

    .venv/bin/python scripts/journeys.py [--out docs/screenshots/journeys]

The same throw-away stack as scripts/screenshots.py (scripts/run.py with its SQLite
database and Temporal data in a temporary directory). Per language and width a fresh
two-level report is walked: emma submits it (through the form), max approves level 1
from the request page, diana approves level 2 from her inbox, the administrator looks
at /ops/, the audit timeline, the payouts and the analytics. Everyone's profile language
is set to the language walked (the profile wins over the browser once signed in).
Each picture is `<lang>-<width>-<journey>-<n>-<step>.jpg` (JPEG: small enough to commit).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.run import free_port, wait_for_port  # noqa: E402
from scripts.screenshots import CHROMIUM, stack_env  # noqa: E402

LANGUAGES = {"en": "en-GB", "de": "de-DE"}
WIDTHS = {1280: 800, 375: 812}
MAX_HEIGHT = 1600


class Walk:
    def __init__(self, browser, url: str, lang: str, width: int, out: Path):
        self.browser, self.url, self.lang, self.width, self.out = browser, url, lang, width, out
        self.written: list[Path] = []

    def person(self, who: str):
        context = self.browser.new_context(
            locale=LANGUAGES[self.lang],
            viewport={"width": self.width, "height": WIDTHS[self.width]},
        )
        page = context.new_page()
        page.goto(f"{self.url}/accounts/login/")
        page.fill("input[name=username]", who)
        page.fill("input[name=password]", "demo")
        page.click("[data-testid=login]")
        page.wait_for_selector("[data-testid=user-name]", state="attached")
        return page

    def shot(self, page, journey: str, n: int, step: str) -> None:
        page.wait_for_load_state("networkidle")
        name = f"{self.lang}-{self.width}-{journey}-{n}-{step}.jpg"
        height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
        page.screenshot(
            path=self.out / name,
            type="jpeg",
            quality=70,
            full_page=True,
            clip={"x": 0, "y": 0, "width": self.width, "height": height},
        )
        self.written.append(self.out / name)

    def first_screen(self, page, journey: str, n: int, step: str) -> None:
        """What a phone shows before any scrolling (the sticky bar included)."""
        name = f"{self.lang}-{self.width}-{journey}-{n}-{step}.jpg"
        page.screenshot(path=self.out / name, type="jpeg", quality=70)
        self.written.append(self.out / name)


def walk(w: Walk, title: str) -> int:
    from approvals.models import ExpenseRequest
    from scripts.drive import wait_pending_level

    # 1. The employee: home, the form (through "New report"), the request's page.
    emma = w.person("emma")
    w.shot(emma, "employee", 1, "home")
    emma.click("[data-testid=new-report]")
    w.shot(emma, "employee", 2, "new-report")
    emma.fill("input[name=title]", title)
    emma.fill("input[name=amount]", "2400,00" if w.lang == "de" else "2,400.00")
    emma.select_option("select[name=category]", "travel")
    emma.fill("textarea[name=description]", "Flights and hotel for the customer workshop.")
    emma.click("[data-testid=submit]")
    emma.wait_for_url(re.compile(r".*/requests/\d+/$"), timeout=60_000)
    pk = int(emma.url.rstrip("/").rsplit("/", 1)[1])
    request = ExpenseRequest.objects.get(pk=pk)
    wait_pending_level(request, 1)
    emma.reload()
    w.shot(emma, "employee", 3, "request")
    emma.context.close()

    # 2. The manager: inbox, the request (the decision in reach), approve.
    max_ = w.person("max")
    max_.goto(f"{w.url}/inbox/")
    w.shot(max_, "manager", 1, "inbox")
    if w.width == 375:
        w.first_screen(max_, "manager", 1, "inbox-first-screen")
    max_.goto(f"{w.url}/requests/{pk}/")
    w.first_screen(max_, "manager", 2, "request-first-screen")
    max_.locator("[data-testid=decision-form] [data-testid=approve]").click()
    wait_pending_level(request, 2)
    max_.goto(f"{w.url}/requests/{pk}/")
    w.shot(max_, "manager", 3, "approved-level-1")
    max_.context.close()

    # 3. The second approver: her inbox, approve from the row.
    diana = w.person("diana")
    diana.goto(f"{w.url}/inbox/")
    w.shot(diana, "second-approver", 1, "inbox")
    row = diana.locator(f"[data-testid=inbox-row][data-request-id='{pk}']")
    row.locator("[data-testid=approve]").click()
    diana.wait_for_timeout(1500)
    w.shot(diana, "second-approver", 2, "decided")
    diana.goto(f"{w.url}/requests/{pk}/")
    w.shot(diana, "second-approver", 3, "request")
    diana.context.close()

    # 4. The administrator: operations, the timeline, payouts, analytics.
    admin = w.person("admin")
    for n, (step, path) in enumerate(
        [
            ("ops", "/ops/"),
            ("request", f"/requests/{pk}/"),
            ("timeline", f"/audit/{pk}/"),
            ("payouts", "/payouts/"),
            ("analytics", "/audit/analytics/"),
        ],
        start=1,
    ):
        admin.goto(f"{w.url}{path}")
        w.shot(admin, "admin", n, step)
    if w.width == 375:
        admin.goto(f"{w.url}/ops/")
        admin.click("[data-testid=menu-toggle]")
        admin.locator("[data-testid=nav-profile]").wait_for(state="visible")
        w.first_screen(admin, "admin", 6, "menu-open")
    admin.context.close()
    return pk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "journeys"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="approvals-journeys-") as var_dir:
        port = free_port()
        env = stack_env(var_dir, port, free_port(), free_port())
        log = open(Path(var_dir) / "stack.log", "wb")  # noqa: SIM115 - closed below
        stack = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        written: list[Path] = []
        try:
            if not wait_for_port(port, 180, stack):
                print((Path(var_dir) / "stack.log").read_text(), file=sys.stderr)
                return 1
            os.environ.update(env)
            os.environ["TEMPORAL_ADDRESS"] = f"127.0.0.1:{env['TEMPORAL_PORT']}"
            os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
            # Playwright's sync API keeps an event loop on this thread; the ORM calls here
            # are plain synchronous ones (as in tests/e2e/conftest.py).
            os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
            import django

            django.setup()
            from playwright.sync_api import sync_playwright

            from accounts.models import User

            for old in out.glob("*.jpg"):
                old.unlink()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
                )
                for lang in LANGUAGES:
                    User.objects.update(language=lang)
                    for width in WIDTHS:
                        w = Walk(browser, f"http://127.0.0.1:{port}", lang, width, out)
                        title = {"en": "Customer workshop Lisbon", "de": "Kundenworkshop Lissabon"}
                        pk = walk(w, f"{title[lang]} ({width} px)")
                        written += w.written
                        print(f"{lang} {width} px: request #{pk}, {len(w.written)} pictures")
                browser.close()
        finally:
            stack.terminate()
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stack.kill()
            log.close()
    total = sum(path.stat().st_size for path in written)
    print(f"{len(written)} pictures, {total / 1e6:.1f} MB in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
