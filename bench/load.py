"""`make bench-load`: the inbox at a company's size (issue 28), "Monday morning".

Starts its own stack (bench/stack.py) with the Temporal dev server at a visibility
limit (`frontend.namespaceRPS.visibility=LOAD_LIMIT`, the self-hosted default 10;
Temporal Cloud's 30) and the app's budget set to the same number, opens LOAD_OPEN
approval workflows spread over LOAD_APPROVERS approvers (one level each), then:

  cold    every approver opens the inbox for the first time at a random moment
          within LOAD_COLD_S seconds (sessions are made beforehand: sign-in is not
          what is measured);
  work    then, for LOAD_DURATION_S, each views the inbox as the browser does (the
          page, then the navigation badge) with LOAD_THINK_S of think time
          (exponential), and after a view approves one of their rows with
          probability LOAD_DECIDE (as the row's button does, htmx).

Reported: views/s, p50/p95/p99 of the page and the badge (cold minute included
and alone), badges shed (503 with Retry-After under overload: the browser keeps the
badge it has; not a bad page), bad pages (not 200, the error banner, or a row the bench knows to be
waiting on the approver missing), staleness (from a decision's answer until the
decided row has left that approver's inbox: probed every 100 ms for one decision
in LOAD_PROBE), rows shown after their decision (a page that shows a row decided
more than 2 s before the page was asked for), and visibility calls (the web
processes' `approvals_visibility_calls_total`) per view and per second, plus
where the page's rows came from (`approvals_inbox_results_total`).

LOAD_CEILING_S > 0: afterwards, one web process's CPU ceiling (approvers with no
think time at 1..16 at once, that many seconds each: views/s and p95).

LOAD_WEBS / LOAD_WORKERS: processes of each (one Redis, one database; each web is one
process unless BENCH_WEB_CONCURRENCY says more, then one port and that many); with
LOAD_FAULT=1, one web and one worker are killed with SIGKILL halfway through the
work phase (approvers of the dead web move to the other, as a load balancer would)
and after the run every approved decision is checked in the projection: none lost.

The load generator runs on the same machine (2 cores here) and takes CPU from the
system under test; BENCHMARKS.md says what was run. Results:
bench/results/load-<scenario>.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from asynchttp import Http  # noqa: E402
from load_setup import (  # noqa: E402
    applied,
    approver,
    log,
    lost,
    open_requests,
    scrape,
    seed,
    sessions,
    summarize_counters,
    wait_projected,
)
from stack import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    RESULTS,
    Stack,
    bench_env,
    free_port,
    group_cpu_seconds,
    recreate_database,
)


def knob(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


APPROVERS = int(knob("LOAD_APPROVERS", 500))
OPEN = int(knob("LOAD_OPEN", 5000))
COLD_S = knob("LOAD_COLD_S", 60)
DURATION_S = knob("LOAD_DURATION_S", 300)
THINK_S = knob("LOAD_THINK_S", 10)
LIMIT = int(knob("LOAD_LIMIT", 10))
DECIDE = knob("LOAD_DECIDE", 0.1)
PROBE = int(knob("LOAD_PROBE", 5))
WEBS = int(knob("LOAD_WEBS", 1))
WORKERS = int(knob("LOAD_WORKERS", 1))
FAULT = os.environ.get("LOAD_FAULT", "") == "1"
CEILING_S = knob("LOAD_CEILING_S", 0)
SCENARIO = os.environ.get("LOAD_SCENARIO") or f"limit{LIMIT}-a{APPROVERS}-o{OPEN}" + (
    "-fault" if FAULT else ""
)

ROW = re.compile(r'data-testid="inbox-row" data-request-id="(\d+)"')
AS_OF = re.compile(r'data-testid="inbox-as-of" data-source="(\w+)" data-age="(\d+)"')
# The navigation badge fetches itself on load unless the page brought its count along.
BADGE_ON_LOAD = re.compile(r'id="inbox-count"[^>]*hx-trigger="load')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pct(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def dist(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), **{f"p{p}_ms": pct(ms, p) for p in (50, 95, 99)}}


# ----------------------------------------------------------------- the approvers
class Run:
    def __init__(self, ports: list[int], plan: dict[str, set[int]], session_keys: dict) -> None:
        self.ports = ports
        self.alive_ports = list(ports)
        self.plan = plan  # approver -> ids the bench knows still wait on them
        self.session_keys = session_keys
        self.decided_at: dict[int, float] = {}  # request id -> monotonic time of the answer
        self.approved: list[int] = []
        self.page_s: list[tuple[float, float]] = []  # (start, seconds)
        self.badge_s: list[tuple[float, float]] = []
        self.bad: list[str] = []
        self.late_rows = 0  # rows shown > 2 s after their decision's answer
        self.staleness: list[float] = []
        self.failovers = 0
        self.badge_shed = 0  # 503 with Retry-After: the browser keeps its badge
        self.badge_inline = 0  # pages that brought the badge's count (no request of its own)
        self.decision_errors = 0
        self.uncertain: list[int] = []  # decisions answered with an error (see decide)
        self.sources: dict[str, int] = {}
        self.page_by_source: dict[str, list[float]] = {}  # the approvers' pages' seconds
        self.start = 0.0
        self.stop_at = 0.0
        self.ended = 0.0
        self.probes: list[asyncio.Future] = []

    def port_for(self, index: int) -> int:
        return self.alive_ports[index % len(self.alive_ports)]

    async def get(self, http: Http, name: str, path: str, index: int, extra=None):
        cookie = f"sessionid={self.session_keys[name]}"
        if getattr(http, "csrf", ""):
            cookie += f"; csrftoken={http.csrf}"
        headers = {"Cookie": cookie, **(extra or {})}
        try:
            return await http.request("GET", path, headers)
        except OSError:
            return await self.failover(http, index, "GET", path, headers, b"")

    async def failover(self, http: Http, index: int, method, path, headers, body):
        """The web process is gone: the next one (a load balancer's health check)."""
        if http.port in self.alive_ports and len(self.alive_ports) > 1:
            self.alive_ports.remove(http.port)
        self.failovers += 1
        await http.close()
        http.port = self.port_for(index)
        return await http.request(method, path, headers, body)

    async def approver(self, index: int) -> None:
        name = approver(index)
        http = Http(self.port_for(index))
        rng = random.Random(index)
        await asyncio.sleep(rng.uniform(0, COLD_S))
        while time.monotonic() < self.stop_at:
            t0 = time.monotonic()
            status, headers, html = await self.get(http, name, "/inbox/", index)
            t1 = time.monotonic()
            self.page_s.append((t0 - self.start, t1 - t0))
            for value in headers.get("set-cookie", []):
                if value.startswith("csrftoken="):
                    http.csrf = value.split(";")[0].split("=", 1)[1]
            self.check_page(name, status, html, t0)
            source = AS_OF.search(html) if status == 200 else None
            self.page_by_source.setdefault(source.group(1) if source else str(status), []).append(
                t1 - t0
            )
            if BADGE_ON_LOAD.search(html):  # as htmx would: only a page that asks for it
                status_b, headers_b, _ = await self.get(http, name, "/inbox/count/", index)
                self.badge_s.append((t1 - self.start, time.monotonic() - t1))
                if status_b == 503 and headers_b.get("retry-after"):
                    self.badge_shed += 1  # shed under overload; htmx keeps the badge it has
                elif status_b != 200:
                    self.bad.append(f"badge {status_b}")
            elif status == 200:
                self.badge_inline += 1
            shown = [int(pk) for pk in ROW.findall(html)]
            mine = [pk for pk in shown if pk in self.plan[name]]
            if mine and rng.random() < DECIDE:
                await self.decide(http, name, index, mine[0])
            think = min(rng.expovariate(1 / THINK_S), 6 * THINK_S)
            await asyncio.sleep(max(0.0, min(think, self.stop_at - time.monotonic())))
        await http.close()

    def check_page(self, name: str, status: int, html: str, t0: float) -> None:
        if status != 200:
            self.bad.append(f"inbox {status}")
            return
        shown = {int(pk) for pk in ROW.findall(html)}
        if 'data-testid="inbox-error"' in html and not shown:
            self.bad.append("error banner without rows")
        missing = [pk for pk in self.plan[name] if pk not in shown]
        # The page holds 25 rows: the bench's approvers have fewer; any missing is bad.
        if missing and len(shown) < 25:
            source = AS_OF.search(html)
            self.bad.append(f"missing rows {missing[:3]} ({source.group(1) if source else '?'})")
        for pk in shown:
            at = self.decided_at.get(pk)
            if at is not None and t0 - at > 2.0:
                self.late_rows += 1
        m = AS_OF.search(html)
        if m:
            self.sources[m.group(1)] = self.sources.get(m.group(1), 0) + 1

    async def decide(self, http: Http, name: str, index: int, pk: int) -> None:
        body = f"action=approve&decision_id={uuid.uuid4()}&level=1&comment=".encode()
        headers = {
            "Cookie": f"sessionid={self.session_keys[name]}; csrftoken={http.csrf}",
            "X-CSRFToken": http.csrf,
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
            "HX-Target": f"row-msg-{pk}",
            "Referer": f"http://127.0.0.1:{http.port}/inbox/",
        }
        path = f"/requests/{pk}/decide/"
        try:
            status, _, text = await http.request("POST", path, headers, body)
        except OSError:
            status, _, text = await self.failover(http, index, "POST", path, headers, body)
        if status != 200 or "decision-refused" in text:
            self.decision_errors += 1
            # "Not reachable, try again" may still have been decided (an Update that
            # outlived the view's timeout): the row may leave, so the page is not
            # checked for it; after the run the projection says what became of it.
            self.plan[name].discard(pk)
            self.uncertain.append(pk)
            return
        now = time.monotonic()
        self.plan[name].discard(pk)
        self.decided_at[pk] = now
        self.approved.append(pk)
        if len(self.approved) % PROBE == 0:
            self.probes.append(asyncio.ensure_future(self.probe(name, index, pk, now)))

    async def probe(self, name: str, index: int, pk: int, since: float) -> None:
        """Every 100 ms until the decided row has left this approver's inbox."""
        http = Http(self.port_for(index + 1))
        try:
            while time.monotonic() - since < 60:
                _, _, html = await self.get(http, name, "/inbox/", index + 1)
                if pk not in {int(x) for x in ROW.findall(html)}:
                    self.staleness.append(time.monotonic() - since)
                    return
                await asyncio.sleep(0.1)
            self.staleness.append(60.0)
        finally:
            await http.close()


async def drive(run: Run, faults) -> None:
    run.start = time.monotonic()
    run.stop_at = run.start + COLD_S + DURATION_S
    tasks = [asyncio.ensure_future(run.approver(i)) for i in range(APPROVERS)]
    if faults is not None:
        await asyncio.sleep(COLD_S + DURATION_S / 2)
        faults()
    await asyncio.gather(*tasks)
    run.ended = time.monotonic()
    await asyncio.gather(*run.probes)  # each gives up after 60 s


async def ceiling(port: int, keys: dict, seconds: float, cpu=None) -> list[dict]:
    """One web process's CPU ceiling: approvers with no think time (the page, then the
    badge if the page asks for it, as above) at 1, 2, 4, 8 and 16 at once, `seconds`
    each: views/s and p95, and (`cpu`: the web's CPU seconds so far) its CPU per view."""
    names = sorted(keys)
    levels = []
    for concurrency in (1, 2, 4, 8, 16):
        times: list[float] = []
        stop_at = time.monotonic() + seconds

        async def one(k: int, times=times, stop_at=stop_at) -> None:
            http = Http(port)
            cookie = {"Cookie": f"sessionid={keys[names[k % len(names)]]}"}
            while time.monotonic() < stop_at:
                t = time.monotonic()
                status, _, html = await http.request("GET", "/inbox/", cookie)
                if BADGE_ON_LOAD.search(html):
                    await http.request("GET", "/inbox/count/", cookie)
                if status == 200:
                    times.append(time.monotonic() - t)
            await http.close()

        t0 = time.monotonic()
        cpu0 = cpu() if cpu else 0.0
        await asyncio.gather(*(one(k) for k in range(concurrency)))
        cpu_ms = (cpu() - cpu0) * 1000 / max(1, len(times)) if cpu else None
        levels.append(
            {
                "concurrency": concurrency,
                "views_per_s": len(times) / (time.monotonic() - t0),
                "web_cpu_ms_per_view": cpu_ms,
                **dist(times),
            }
        )
        log(
            f"  ceiling at {concurrency}: {levels[-1]['views_per_s']:.1f} views/s, "
            f"p95 {levels[-1]['p95_ms']:.0f} ms, web CPU {cpu_ms or 0:.1f} ms/view"
        )
    return levels


def report(run: Run, counters: dict, elapsed: float, cpu: dict) -> dict:
    cold = [s for t, s in run.page_s if t < COLD_S]
    views = len(run.page_s)
    return {
        "views": views,
        "views_per_s": views / elapsed,
        "inbox": dist([s for _, s in run.page_s]),
        "inbox_cold_minute": dist(cold),
        "badge": dist([s for _, s in run.badge_s]),
        "bad_pages": len(run.bad),
        "badge_shed_503": run.badge_shed,
        "badge_with_the_page": run.badge_inline,
        "bad_examples": run.bad[:10],
        "decisions": len(run.approved),
        "decision_refusals_or_errors": run.decision_errors,
        "staleness": dist(run.staleness),
        "rows_shown_over_2s_after_decision": run.late_rows,
        "failovers": run.failovers,
        "sources_seen": run.sources,
        "inbox_by_source": {k: dist(v) for k, v in sorted(run.page_by_source.items())},
        **counters,
        "visibility_calls_per_view": counters["visibility_calls"] / max(1, views),
        "visibility_calls_per_s": counters["visibility_calls"] / elapsed,
        "cpu_seconds": cpu,
    }


def main() -> int:
    database_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/3"
    stack = Stack()
    result: dict = {
        "command": "make bench-load",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": {
            "approvers": APPROVERS,
            "open": OPEN,
            "cold_s": COLD_S,
            "duration_s": DURATION_S,
            "think_s": THINK_S,
            "limit": LIMIT,
            "decide": DECIDE,
            "webs": WEBS,
            "workers": WORKERS,
            "fault": FAULT,
        },
        "load_average_before": os.getloadavg(),
    }
    try:
        stack.start_temporal(
            ["--dynamic-config-value", f"frontend.namespaceRPS.visibility={LIMIT}"]
        )
        recreate_database(database_url)
        env = bench_env(
            database_url=database_url,
            temporal_address=f"127.0.0.1:{stack.temporal_port}",
            redis_url=redis_url,
        )
        env["TEMPORAL_VISIBILITY_RPS"] = str(LIMIT)
        os.environ.update(env)
        import django

        django.setup()
        from approvals.temporal.client import connect

        users = seed(APPROVERS)
        workers = [stack.start_worker(env, name=f"worker{i}") for i in range(WORKERS)]
        ports = [stack.web_port] + [free_port() for _ in range(WEBS - 1)]
        webs = [stack.start_web(env, name=f"web{i}", port=p) for i, p in enumerate(ports)]
        client = asyncio.run(connect())
        plan = open_requests(users, client, OPEN, APPROVERS)
        result["setup_s"] = wait_projected(OPEN)
        keys = sessions(users, APPROVERS)
        log(f"{APPROVERS} approvers, {OPEN} open; cold {COLD_S:.0f}s then {DURATION_S:.0f}s")
        run = Run(ports, plan, keys)
        before = scrape(ports)
        cpu0 = stack.cpu()
        killed: list[str] = []

        def faults() -> None:
            for child in (webs[-1], workers[-1]):
                os.killpg(child.pid, signal.SIGKILL)
                stack.children.remove(child)
                killed.append(child.name)
            log(f"killed {killed}")

        asyncio.run(drive(run, faults if FAULT else None))
        elapsed = run.ended - run.start  # the cold window and the work, probes aside
        cpu1 = stack.cpu()
        counters = summarize_counters(before, scrape([p for p in ports if p in run.alive_ports]))
        result["load"] = report(
            run, counters, elapsed, {k: round(cpu1[k] - cpu0.get(k, 0), 1) for k in cpu1}
        )
        result["killed"] = killed
        result["lost_decisions"] = lost(run.approved)
        result["decisions_answered_with_an_error_yet_approved"] = applied(run.uncertain)
        if CEILING_S > 0:
            log("CPU ceiling of one web process…")
            web = webs[ports.index(run.alive_ports[0])]
            levels = asyncio.run(
                ceiling(run.alive_ports[0], keys, CEILING_S, lambda: group_cpu_seconds(web.pid))
            )
            ok = [lv for lv in levels if lv["p95_ms"] is not None and lv["p95_ms"] <= 150]
            result["ceiling"] = {
                "levels": levels,
                "views_per_s_at_p95_150ms": max((lv["views_per_s"] for lv in ok), default=0),
            }
    finally:
        stack.stop()
    result["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"load-{SCENARIO}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps({k: result.get(k) for k in ("load", "ceiling")}, indent=2, default=str))
    print(f"lost decisions: {result['lost_decisions']}; results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
