import asyncio
import contextlib
import os
import signal
import sys
import tempfile

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from approvals.services.leavers import sweep_leavers
from approvals.worker import worker


def proxy_options() -> dict:
    """uvicorn reads X-Forwarded-* only when proxies are configured (TRUSTED_PROXY_COUNT),
    and then only from the addresses in FORWARDED_ALLOW_IPS."""
    if settings.TRUSTED_PROXY_COUNT <= 0:
        return {"proxy_headers": False}
    return {
        "proxy_headers": True,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }


def web_concurrency(with_worker: bool) -> int:
    """WEB_CONCURRENCY web processes (uvicorn workers on one socket). Default: one per
    core, at most 2 (the bound admission.py keeps is per process; the visibility budget
    and the inbox results are shared through Redis, so more processes spend no more
    visibility). Always 1 with the worker in process (embedded mode keeps its budget,
    events and results in that one process)."""
    if with_worker:
        return 1
    value = os.environ.get("WEB_CONCURRENCY", "").strip()
    if value:
        try:
            number = int(value)
        except ValueError as exc:
            raise CommandError(f"WEB_CONCURRENCY must be a whole number, got {value!r}") from exc
        if number < 1:
            raise CommandError(f"WEB_CONCURRENCY must be 1 or more, got {number}")
        return number
    return max(1, min(2, os.cpu_count() or 1))


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: once serve() returns, uvicorn
    raises the signal it stopped on again, so Ctrl-C became a KeyboardInterrupt that
    cancelled the worker in the middle (and a traceback, exit 1) and SIGTERM killed the
    process. `handle` turns both into a graceful stop of the web server, then the worker."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class Command(BaseCommand):
    help = "Serve the ASGI app with uvicorn; --with-worker also runs the worker in this process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--with-worker",
            action="store_true",
            default=None,
            help="Run the worker here too (default when REDIS_URL is not set).",
        )
        parser.add_argument("--no-worker", action="store_false", dest="with_worker")

    def handle(self, *args, host, port, with_worker, **options):
        if with_worker is None:
            with_worker = not settings.REDIS_URL
        processes = web_concurrency(with_worker)
        if processes > 1:
            self._serve_many(host, port, processes)
            return

        async def main() -> None:
            config = uvicorn.Config(
                "config.asgi:application",
                host=host,
                port=port,
                lifespan="off",
                log_level="warning",
                **proxy_options(),
            )
            server = _Server(config)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                # uvicorn's own handler: a second Ctrl-C stops without waiting for requests.
                loop.add_signal_handler(sig, server.handle_exit, sig, None)
            stop = asyncio.Event()
            passes = (sweep_leavers,)
            tasks = [asyncio.create_task(worker.run(stop, passes=passes))] if with_worker else []
            self.stdout.write(f"web: http://{host}:{port}/ (worker in process: {with_worker})")
            await server.serve()
            stop.set()
            if tasks:
                await asyncio.wait(tasks, timeout=10)

        asyncio.run(main())
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def _serve_many(self, host: str, port: int, processes: int) -> None:
        """uvicorn's supervisor: `processes` workers on one socket, a dead one replaced.
        Metrics: one scrape adds up every process's counters (PROMETHEUS_MULTIPROC_DIR,
        a fresh directory here unless one is given)."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="approvals-metrics-")
        self.stdout.write(f"web: http://{host}:{port}/ ({processes} processes, no worker)")
        sys.stdout.flush()
        uvicorn.run(
            "config.asgi:application",
            host=host,
            port=port,
            workers=processes,
            lifespan="off",
            log_level="warning",
            **proxy_options(),
        )
