"""Files answered under ASGI a block at a time: static files (WhiteNoise) and receipts.

A FileResponse iterates its file synchronously; Django's ASGI handler then reads the
whole file into a list first and warns ("StreamingHttpResponse must consume synchronous
iterators"). Under ASGI these answers read the file in blocks from a worker thread
instead (`stream_blocks`). Under WSGI (the test client) the file is left as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware


def stream_blocks(request: HttpRequest, response: FileResponse) -> FileResponse:
    """`response` streaming its file a block at a time when `request` came through ASGI.
    Without a file (WhiteNoise's 304 Not Modified, an empty body) its content as it is,
    through an async iterator too."""
    if not isinstance(request, ASGIRequest) or response.is_async:
        return response
    handle = response.file_to_stream
    if handle is None:
        response.streaming_content = _each(response.streaming_content)
    else:
        # The file's close stays registered with the response (FileResponse did that).
        response.streaming_content = _blocks(handle, response)
    return response


async def _blocks(handle, response: FileResponse) -> AsyncIterator[bytes]:
    read = sync_to_async(handle.read, thread_sensitive=False)
    while block := await read(response.block_size):
        yield block


async def _each(parts) -> AsyncIterator[bytes]:
    for part in parts:  # in memory already (no file to read)
        yield part


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, with its files streamed as above."""

    @staticmethod
    def serve(static_file, request):
        return stream_blocks(request, WhiteNoiseMiddleware.serve(static_file, request))
