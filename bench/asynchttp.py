"""A small HTTP/1.1 keep-alive client on asyncio streams for bench/load.py (the venv has
no async HTTP client library, and hundreds of simulated approvers need one)."""

from __future__ import annotations

import asyncio


class Http:
    """HTTP/1.1 keep-alive on asyncio streams (no client library in the venv)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict, body: bytes = b""):
        for attempt in range(2):  # a keep-alive connection the server closed: once more
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                return await self._once(method, path, headers, body)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                await self.close()
                if attempt:  # a process that is gone: an OSError the caller fails over on
                    raise ConnectionError(str(exc)) from exc
        raise AssertionError("unreachable")

    async def _once(self, method, path, headers, body):
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        out: dict[str, list[str]] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            key, _, value = line.decode("latin-1").partition(":")
            out.setdefault(key.strip().lower(), []).append(value.strip())
        if "chunked" in ",".join(out.get("transfer-encoding", [])):
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(int(out.get("content-length", ["0"])[0]))
        if "close" in ",".join(out.get("connection", [])):
            await self.close()
        return status, out, data.decode(errors="replace")
