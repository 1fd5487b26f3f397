"""`make bench-ocr`: receipts read by OCR (issue 26), in one run.

  accuracy  Tesseract (approvals/ocr/engine.py) + the parser on BENCH_OCR_N receipts
            drawn with Pillow (approvals/ocr/samples.py, clean scans, German and
            English) and on the committed photographed-looking fixtures
            (tests/fixtures/receipts/): amount, date, both, currency, merchant, VAT.
  speed     seconds per receipt on one core: this process pinned to CPU 0 (like
            `taskset -c 0`), Tesseract with OMP_THREAD_LIMIT=1; wall time and CPU time
            (this process + Tesseract), since wall time on a shared machine includes
            waiting for the core.
  isolation approval latency (POST /requests/<pk>/decide/ as the approver, to the
            answer) p50/p95 without and then during a burst of BENCH_OCR_BURST (50)
            receipts uploaded through POST /requests/receipts/read/, on its own stack:
            Temporal dev server, the approval worker (OCR_WORKER=0), the OCR worker
            (`run_worker --ocr-only`, OCR_CONCURRENCY=2) and the web server as
            separate processes joined by Redis. The OCR queue's own worker takes the
            burst; the approval queue's worker never sees it.
Writes bench/results/ocr.json and prints a table (copied into BENCHMARKS.md).
Knobs: BENCH_OCR_N (40), BENCH_OCR_BURST (50), BENCH_OCR_ITER (30), BENCH_DATABASE_URL
(its database gets the suffix _ocr), BENCH_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import resource
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stack import (  # noqa: E402  (bench/ is on sys.path when run as a script)
    DEFAULT_DATABASE_URL,
    PY,
    RESULTS,
    Child,
    Stack,
    bench_env,
    reachable,
    recreate_database,
)
from webclient import WebClient  # noqa: E402

from approvals.ocr import engine, samples  # noqa: E402  (pure: Pillow + Tesseract)
from approvals.ocr.parse import parse_receipt  # noqa: E402

N = int(os.environ.get("BENCH_OCR_N") or 40)
BURST = int(os.environ.get("BENCH_OCR_BURST") or 50)
ITER = int(os.environ.get("BENCH_OCR_ITER") or 30)
WARMUP = 5
FIXTURES = ROOT / "tests" / "fixtures" / "receipts"
TARGETS = {"accuracy_pct": 90.0, "seconds_per_receipt": 1.5, "latency_ratio_p50": 1.25}


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cpu_now() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# ------------------------------------------------------------------ accuracy + speed
def read_set(items: list[tuple[str, bytes, dict]]) -> dict:
    counts = dict.fromkeys(("amount", "date", "both", "currency", "merchant", "vat"), 0)
    wrong_amounts = 0
    wall, cpu = [], []
    misses = []
    for name, data, want in items:
        c0, t0 = cpu_now(), time.perf_counter()
        reading = parse_receipt(engine.ocr_bytes(data), want["language"])
        wall.append(time.perf_counter() - t0)
        cpu.append(cpu_now() - c0)
        got = {
            "amount": None if reading.amount is None else f"{reading.amount:f}",
            "date": reading.date.isoformat() if reading.date else "",
            "currency": reading.currency,
            "merchant": reading.merchant,
            "vat": None if reading.vat is None else f"{reading.vat:f}",
        }
        for key in ("amount", "date", "currency", "merchant", "vat"):
            counts[key] += got[key] == want[key]
        counts["both"] += got["amount"] == want["amount"] and got["date"] == want["date"]
        if got["amount"] is not None and got["amount"] != want["amount"]:
            wrong_amounts += 1
        if got["amount"] != want["amount"] or got["date"] != want["date"]:
            misses.append({"receipt": name, "want": want, "got": got})
    n = len(items)
    return {
        "n": n,
        "right_pct": {k: round(100 * v / n, 1) for k, v in counts.items()},
        "wrong_amounts": wrong_amounts,
        "wall_s": {"mean": sum(wall) / n, "p50": pct(wall, 50), "p95": pct(wall, 95)},
        "cpu_s": {"mean": sum(cpu) / n, "p50": pct(cpu, 50), "p95": pct(cpu, 95)},
        "misses": misses[:10],
    }


def bench_accuracy() -> dict:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everything)})  # one core, for us and Tesseract
    try:
        drawn = [
            (f"drawn-{i:02d}-{s.language}", samples.png_bytes(samples.render(s)), s.expected())
            for i, s in enumerate(samples.samples(N, seed=26))
        ]
        log(f"reading {len(drawn)} drawn receipts on one core…")
        result = {"drawn": read_set(drawn)}
        expected = json.loads((FIXTURES / "expected.json").read_text())
        photos = [(name, (FIXTURES / name).read_bytes(), want) for name, want in expected.items()]
        log(f"reading {len(photos)} photographed fixtures on one core…")
        result["photographed"] = read_set(photos)
    finally:
        os.sched_setaffinity(0, everything)
    return result


# ------------------------------------------------------------------ isolation
def upload(web: WebClient, data: bytes) -> dict:
    """POST one receipt as the form's script does (multipart, CSRF header)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="receipt"; '
            f'filename="r.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    conn = http.client.HTTPConnection(web.host, web.port, timeout=60)
    conn.request(
        "POST",
        "/requests/receipts/read/",
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": web.cookie_header(),
            "X-CSRFToken": web.cookies.get("csrftoken", ""),
            "Host": f"{web.host}:{web.port}",
        },
    )
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    if response.status != 202:
        raise RuntimeError(f"upload: HTTP {response.status} {text[:200]}")
    return json.loads(text)


def approvals_timed(web: WebClient, pool: list[int], count: int) -> list[float]:
    times = []
    for i in range(count + WARMUP):
        pk = pool.pop()
        web.prepare()
        t = time.perf_counter()
        status, text = web.approve(pk, decision_id=str(uuid.uuid4()))
        elapsed = time.perf_counter() - t
        if status != 200 or "fully approved" not in text:
            raise RuntimeError(f"approve #{pk}: {status} {text[:200]}")
        if i >= WARMUP:
            times.append(elapsed)
    return times


def summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": max(ms)}


def bench_isolation(database_url: str, redis_url: str) -> dict:
    stack = Stack()
    try:
        stack.start_temporal()
        recreate_database(database_url)
        env = bench_env(
            database_url=database_url,
            temporal_address=f"127.0.0.1:{stack.temporal_port}",
            redis_url=redis_url,
        )
        env.update(OCR_WORKER="0", OCR_CONCURRENCY="2", TEMPORAL_VISIBILITY_RPS="1000")
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        from approvals import services
        from approvals.models import ExpenseRequest
        from approvals.ocr.models import ReadStatus, ReceiptUpload

        call_command("migrate", "--noinput", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        from accounts.models import User

        emma = User.objects.get(username="emma")
        stack.start_worker(env)
        ocr = Child("ocr", [PY, "manage.py", "run_worker", "--ocr-only"], env, RESULTS / "ocr.log")
        stack.children.append(ocr)
        stack.start_web(env)
        need = 2 * (ITER + WARMUP)
        log(f"web on {stack.base_url}; {need} requests for max to approve")
        pks = [
            services.expense_submit(
                requester=emma, title=f"Bench {i}", amount=Decimal("42.00"), category="travel"
            ).pk
            for i in range(need)
        ]
        deadline = time.monotonic() + 300
        while (
            ExpenseRequest.objects.filter(
                pk__in=pks, status="pending", pending_approvers=["max"]
            ).count()
            < need
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("requests did not reach max in time")
            stack.check_alive()
            time.sleep(0.5)
        pool = list(reversed(pks))
        max_web = WebClient("127.0.0.1", stack.web_port, "max").sign_in()
        emma_web = WebClient("127.0.0.1", stack.web_port, "emma").sign_in()

        log(f"approval latency, quiet ({ITER} decisions)…")
        quiet = approvals_timed(max_web, pool, ITER)

        receipts = [samples.png_bytes(samples.render(s)) for s in samples.samples(BURST, seed=5)]
        log(f"burst: {BURST} receipts uploaded, approvals measured while they are read…")
        t0 = time.perf_counter()
        tokens = [upload(emma_web, data)["token"] for data in receipts]
        upload_s = time.perf_counter() - t0
        during = approvals_timed(max_web, pool, ITER)
        read_when_done = ReceiptUpload.objects.filter(
            token__in=tokens, status=ReadStatus.READ
        ).count()
        while ReceiptUpload.objects.filter(token__in=tokens, status=ReadStatus.PENDING).exists():
            if time.perf_counter() - t0 > 900:
                raise RuntimeError("the burst was not read in 15 minutes")
            stack.check_alive()
            time.sleep(0.5)
        burst_s = time.perf_counter() - t0
        rows = ReceiptUpload.objects.filter(token__in=tokens)
        return {
            "quiet": summary(quiet),
            "during_burst": summary(during),
            "ratio_p50": pct(during, 50) / pct(quiet, 50),
            "ratio_p95": pct(during, 95) / pct(quiet, 95),
            "burst": {
                "receipts": BURST,
                "upload_s": upload_s,
                "all_read_s": burst_s,
                "read_when_approvals_done": read_when_done,
                "read": rows.filter(status=ReadStatus.READ).count(),
                "failed": rows.exclude(status=ReadStatus.READ).count(),
                "activity_s_mean": sum(r.seconds or 0 for r in rows) / max(1, rows.count()),
            },
        }
    finally:
        stack.stop()


def table(r: dict) -> str:
    d, p = r["accuracy"]["drawn"], r["accuracy"]["photographed"]
    lines = [
        "| | drawn (clean scans) | photographed fixtures |",
        "|---|---|---|",
        f"| receipts | {d['n']} | {p['n']} |",
    ]
    for key, label in (
        ("both", "amount **and** date right"),
        ("amount", "amount right"),
        ("date", "date right"),
        ("currency", "currency right"),
        ("merchant", "merchant right"),
        ("vat", "VAT right"),
    ):
        lines.append(f"| {label} | {d['right_pct'][key]} % | {p['right_pct'][key]} % |")
    lines.append(f"| a wrong amount filled | {d['wrong_amounts']} | {p['wrong_amounts']} |")
    for key, label in (("wall_s", "wall s/receipt, 1 core"), ("cpu_s", "CPU s/receipt")):
        lines.append(
            f"| {label} (mean / p95) | {d[key]['mean']:.2f} / {d[key]['p95']:.2f} | "
            f"{p[key]['mean']:.2f} / {p[key]['p95']:.2f} |"
        )
    if "isolation" in r:
        i = r["isolation"]
        lines += [
            "",
            "| approval decision round-trip | p50 | p95 | max |",
            "|---|---|---|---|",
            f"| quiet | {i['quiet']['p50_ms']:.0f} ms | {i['quiet']['p95_ms']:.0f} ms | "
            f"{i['quiet']['max_ms']:.0f} ms |",
            f"| while {i['burst']['receipts']} receipts are read | "
            f"{i['during_burst']['p50_ms']:.0f} ms | {i['during_burst']['p95_ms']:.0f} ms | "
            f"{i['during_burst']['max_ms']:.0f} ms |",
            f"| ratio | {i['ratio_p50']:.2f} | {i['ratio_p95']:.2f} | |",
            "",
            f"Burst: {i['burst']['receipts']} uploads in {i['burst']['upload_s']:.1f} s, all read "
            f"after {i['burst']['all_read_s']:.0f} s ({i['burst']['read']} read, "
            f"{i['burst']['failed']} not); {i['burst']['read_when_approvals_done']} were read "
            "when the measured approvals had finished (the rest were still queued).",
        ]
    return "\n".join(lines)


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not engine.available():
        print("tesseract is not installed: run `make tesseract`.", file=sys.stderr)
        return 2
    results: dict = {
        "command": "make bench-ocr",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_before": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    results["accuracy"] = bench_accuracy()
    if os.environ.get("BENCH_OCR_SKIP_ISOLATION") != "1":
        database_url = (os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL) + "_ocr"
        redis_url = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/9"
        db, rd = urlsplit(database_url), urlsplit(redis_url)
        for what, host, port in (
            ("PostgreSQL", db.hostname, db.port or 5432),
            ("Redis", rd.hostname, rd.port or 6379),
        ):
            if not reachable(host or "127.0.0.1", port):
                print(f"{what} is not reachable at {host}:{port}.", file=sys.stderr)
                return 2
        results["isolation"] = bench_isolation(database_url, redis_url)
    results["load_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ocr.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    drawn = results["accuracy"]["drawn"]
    ok = drawn["right_pct"]["both"] >= TARGETS["accuracy_pct"]
    print(f"\naccuracy target (>= {TARGETS['accuracy_pct']} % amount and date): {ok}")
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    sys.exit(main())
