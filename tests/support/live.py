"""Browser helpers for live updates: type as a person does, then read back what a pushed
change left of it (the same element, its text, the focus, the caret), and send a
`request.changed` push again as an activity retried after its send does (at least once).
"""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer

from approvals.models import ExpenseRequest
from tests.support.browser import login, wait_ws

# Marks the element (a property, not an attribute: a morph never sees it) so a later
# read can tell the very same element from a new one with the same text.
MARK = "(el) => { el.__typedHere = true; }"

STATE = """(el) => ({
  value: el.value,
  same: el.__typedHere === true && el.isConnected,
  focused: document.activeElement === el,
  start: el.selectionStart,
  end: el.selectionEnd,
  readOnly: el.readOnly,
})"""


def signed_in(new_page, app, username: str, path: str, **options):
    page = new_page(**options)
    login(page, app, username)
    page.goto(f"{app.url}{path}")
    wait_ws(page)
    page.wait_for_load_state("networkidle")  # the socket's first refresh has landed
    page.evaluate("window.__sameDocument = true")
    return page


def type_into(field, text: str, caret: int | None = None) -> None:
    """Click, type key by key, leave the caret at `caret` (default: the end), mark it."""
    field.click()
    field.press_sequentially(text)
    if caret is not None:
        field.evaluate("(el, at) => el.setSelectionRange(at, at)", caret)
    field.evaluate(MARK)


def state(field) -> dict:
    return field.evaluate(STATE)


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def push_again(app, request: ExpenseRequest, user_ids: list[int]) -> None:
    """The request's last change, pushed once more to `user_ids` (a retried publish),
    through the live app's own channel layer and loop, as the worker sends it."""
    request.refresh_from_db()
    event = {
        "type": "request.changed",
        "request_id": request.pk,
        "status": request.status,
        "title": request.title,
        "requester": request.requester.username,
        "pending": list(request.pending_approvers),
        "previous_pending": [],
        "current_level": request.current_level,
        "kinds": [],
    }
    layer = get_channel_layer()

    async def send() -> None:
        for user_id in user_ids:
            await layer.group_send(f"user.{user_id}", event)

    asyncio.run_coroutine_threadsafe(send(), app.loop).result(10)
