"""Helpers shared by the tests (and only by the tests); conftest.py files hold fixtures only.

- `servers`: free ports, the Temporal dev server, the worker thread, the live
  ASGI app with its worker, and pointing this process away from Temporal.
- `processes`: `manage.py`/`python -c` subprocesses with a chosen environment.
- `waiting`: `wait_for` and `at_the_same_time`.
- `requests`: drive a request through the real services and read its state.
- `visibility`: the request as Temporal visibility lists it.
- `web`: signed-in Django test clients, the inbox as a page, an HTTP user.
- `browser`: Chromium settings and page helpers for the Playwright tests.
- `ws`: a websocket client speaking ASGI to the real application.
- `orgchart`: random organisations and the separation-of-duties invariant (hypothesis).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
