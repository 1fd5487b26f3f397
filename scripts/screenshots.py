#!/usr/bin/env python
"""Capture every page (scripts/pages.py) as emma, max, diana and admin, in English
and German, into docs/screenshots/ (PNG; desktop, plus 375 px for a few pages).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Runs on a throw-away stack: `scripts/run.py` (the `make run` embedded mode: a
Temporal dev server, the worker inside the web process) with its SQLite database
and Temporal data in a temporary directory, on free ports. This process seeds a
few requests through the public services (same database, same Temporal), then
drives Debian's Chromium with Playwright. Everything it started is stopped at the
end. The README links the pictures; re-run after page changes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.pages import pages_for  # noqa: E402
from scripts.run import free_port, wait_for_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LANGUAGES = {"en": "en-US", "de": "de-DE"}
DESKTOP = {"width": 1024, "height": 700}
PHONE = {"width": 375, "height": 700}
MAX_HEIGHT = 1200  # a long page is cut here: the pictures stay small (< 3 MB in all)
# Who is shown on which pages (None: every page the person opens); a page shared
# by everyone is shown once, for the first person. Pages added to scripts/pages.py
# appear for emma (every page she opens) and, if named here, for the others.
PEOPLE: dict[str, set[str] | None] = {
    "emma": None,
    "max": {"inbox", "request-detail", "link-approve", "link-reject", "home"},
    "diana": {"inbox", "home"},
    "admin": {
        "audit",
        "audit-detail",
        "ops",
        "analytics",
        "home",
        "payouts",
        "policy-list",
        "policy-detail",
        "request-detail",
    },
}
# Also at 375 px: (language, person, page).
PHONE_SHOTS = {
    ("en", "max", "inbox"),
    ("de", "max", "inbox"),
    ("en", "emma", "requests"),
    ("en", "emma", "request-detail"),
    ("en", "admin", "audit"),
    ("de", "emma", "home"),
    ("en", "admin", "analytics"),
}


def stack_env(var_dir: str, port: int, temporal_port: int, ui_port: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "TEMPORAL_ADDRESS"):
        env.pop(name, None)  # always the throw-away SQLite file and dev server
    env.update(
        APPROVALS_VAR_DIR=var_dir,
        DJANGO_DEBUG="1",
        PORT=str(port),
        TEMPORAL_PORT=str(temporal_port),
        TEMPORAL_UI_PORT=str(ui_port),
        APP_BASE_URL=f"http://127.0.0.1:{port}",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        PASSWORD_HASHERS="django.contrib.auth.hashers.MD5PasswordHasher",
    )
    return env


def seed() -> dict[str, object]:
    """A few requests in different states; returns the values scripts/pages.py names."""
    from accounts.models import User
    from approvals import services
    from approvals.links import LinkClaim, link_url, new_decision_id
    from scripts.drive import submit, wait_pending_level, wait_state

    org = {user.username: user for user in User.objects.all()}

    def decide(request, user, action="approve", **kw):
        return services.decision_record(request=request, actor=user, action=action, **kw)

    big = submit(org["emma"], "20000.00", title="Cluster hardware for the data team")
    wait_pending_level(big, 1)
    decide(big, org["max"], comment="Needed for the launch; quotes attached.")
    wait_pending_level(big, 2)
    for amount, title in [("480.00", "Train to the customer"), ("1250.00", "Conference ticket")]:
        wait_pending_level(submit(org["emma"], amount, title=title), 1)
    rejected = submit(org["emma"], "5000.00", title="New office chairs")
    wait_pending_level(rejected, 1)
    decide(rejected, org["max"], "reject", comment="Please use the framework contract.")
    done = submit(org["finn"], "300.00", title="Printer toner")
    wait_pending_level(done, 1)
    decide(done, org["maria"])
    wait_state(done, lambda s: s.status == "approved")
    linked = submit(org["emma"], "90.00", title="Taxi to the airport")
    wait_pending_level(linked, 1)
    base = link_url(LinkClaim("max", linked.pk, 1, 1, "approve", "x")).split("/links/")[0]

    def link(action: str) -> str:
        claim = LinkClaim("max", linked.pk, 1, 1, action, new_decision_id())
        return link_url(claim).removeprefix(base)

    return {"request": big.pk, "approve_link": link("approve"), "reject_link": link("reject")}


def capture(page, path: Path) -> Path:
    """The page from the top, as long as its content but at most MAX_HEIGHT."""
    width = page.viewport_size["width"]
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    page.screenshot(
        path=path, full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
    )
    return path


def shoot(url: str, values: dict[str, object], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for lang, locale in LANGUAGES.items():
            login_page = browser.new_page(locale=locale, viewport=DESKTOP)
            login_page.goto(f"{url}/accounts/login/", wait_until="networkidle")
            written.append(capture(login_page, out / f"{lang}-login.png"))
            login_page.close()
            for who, shown in PEOPLE.items():
                context = browser.new_context(locale=locale, viewport=DESKTOP)
                page = context.new_page()
                page.goto(f"{url}/accounts/login/")
                page.fill("input[name=username]", who)
                page.fill("input[name=password]", "demo")
                page.click("[data-testid=login]")
                page.wait_for_selector("[data-testid=user-name]")
                for spec in pages_for(who):
                    if shown is not None and spec.name not in shown:
                        continue
                    page.set_viewport_size(DESKTOP)
                    page.goto(spec.url(url, **values), wait_until="networkidle")
                    written.append(capture(page, out / f"{lang}-{who}-{spec.name}.png"))
                    if (lang, who, spec.name) in PHONE_SHOTS:
                        page.set_viewport_size(PHONE)
                        page.wait_for_timeout(150)  # the relayout; a picture, not a test
                        written.append(capture(page, out / f"{lang}-{who}-{spec.name}-375.png"))
                context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument(
        "--port", type=int, default=0, help="web port; Temporal uses the next two (default: free)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="approvals-shots-") as var_dir:
        port = args.port or free_port()
        ports = (port + 1, port + 2) if args.port else (free_port(), free_port())
        env = stack_env(var_dir, port, *ports)
        log = open(Path(var_dir) / "stack.log", "wb")  # noqa: SIM115 - closed below
        stack = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            if not wait_for_port(port, 120, stack):
                print((Path(var_dir) / "stack.log").read_text(), file=sys.stderr)
                return 1
            os.environ.update(env)
            os.environ["TEMPORAL_ADDRESS"] = f"127.0.0.1:{env['TEMPORAL_PORT']}"
            os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
            import django

            django.setup()
            values = seed()
            for old in out.glob("*.png"):
                old.unlink()
            written = shoot(f"http://127.0.0.1:{port}", values, out)
        finally:
            stack.terminate()
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stack.kill()
            log.close()
    total = sum(path.stat().st_size for path in written)
    print(f"wrote {len(written)} screenshots to {out} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
