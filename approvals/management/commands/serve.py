import asyncio
import os
import sys

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

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

        async def main() -> None:
            config = uvicorn.Config(
                "config.asgi:application",
                host=host,
                port=port,
                lifespan="off",
                log_level="warning",
                **proxy_options(),
            )
            server = uvicorn.Server(config)
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
