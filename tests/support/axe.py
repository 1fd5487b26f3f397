"""axe-core (npm, package-lock.json) on every page a browser test visits.

How it gets past the app's CSP without weakening it: the axe source is added
with `context.add_init_script`, which Chromium evaluates through the DevTools
protocol in every new document before the page's own scripts; such scripts are
not subject to the page's Content-Security-Policy (no `bypass_csp`, no inline
<script>, the app's headers are untouched). Each run is a Playwright
`page.evaluate`, also outside the CSP.

`AxeWatch.attach(context)` checks each page after every load (full navigation)
and once more at the end of the test (the DOM after htmx swaps). A check that a
navigation interrupted is repeated at teardown by loading that URL again in a
new page of the same context (a GET changes nothing: the contract). Violations
of impact serious or critical are collected as "rule, page, nodes" and the
fixture fails the test with all of them.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("serious", "critical")

# Runs are chained so a load-time run and the teardown run never overlap
# ("Axe is already running"). Returns only what the report needs.
RUN = """async (impacts) => {
  const previous = window.__axeChain || Promise.resolve();
  // Swagger UI (/api/v1/docs) is django-ninja's bundled third-party app, drawn after
  // load; its own colours and markup are not ours to fix. The page around it is checked.
  const run = previous.catch(() => null).then(() => axe.run({ exclude: [".swagger-ui"] }, {
    resultTypes: ["violations"],
  }));
  window.__axeChain = run;
  const result = await run;
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 8).map((n) => n.target.join(" ") + "  " + n.failureSummary
        .replace(/\\s+/g, " ").slice(0, 300)),
    }));
}"""


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        # `make test` runs `npm ci` first; a bare pytest run does it here once.
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    return AXE_JS.read_text()


class AxeWatch:
    """Collects serious/critical axe violations for every page of the attached contexts."""

    def __init__(self) -> None:
        self.violations: dict[tuple[str, str], dict] = {}  # (rule, path) -> violation
        self.checked: set[str] = set()
        self.missed: list[tuple[object, str]] = []  # (context, url) a navigation cut short
        self.pages: list = []

    def attach(self, context) -> None:
        context.add_init_script(script=axe_source())
        context.on("page", self._watch)

    def _watch(self, page) -> None:
        self.pages.append(page)
        page.on("load", lambda: self.check(page))

    def check(self, page, url: str | None = None) -> None:
        url = url or page.url
        if not url.startswith("http"):
            return
        try:
            found = page.evaluate(RUN, list(IMPACTS))
        except Exception:  # the page navigated or closed before the run finished
            self.missed.append((page.context, url))
            return
        self.record(url, found)

    def record(self, url: str, found: list[dict]) -> None:
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else url
        self.checked.add(path)
        for v in found:
            self.violations.setdefault((v["id"], path), v)

    def finish(self) -> None:
        """The last state of every open page, then the runs a navigation interrupted."""
        for page in list(self.pages):
            if not page.is_closed():
                self.check(page)
        missed, self.missed = self.missed, []
        for context, url in missed:
            path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else url
            if path in self.checked:
                continue
            try:
                page = context.new_page()
            except Exception:
                continue  # the context is gone
            try:
                page.goto(url)
                self.record(url, page.evaluate(RUN, list(IMPACTS)))
            except Exception:
                pass
            finally:
                page.close()

    def report(self) -> str:
        lines = []
        for (rule, path), v in sorted(self.violations.items()):
            lines.append(f"{v['impact']} {rule} on {path}: {v['help']}")
            lines.extend(f"    {node}" for node in v["nodes"])
        return "\n".join(lines)
