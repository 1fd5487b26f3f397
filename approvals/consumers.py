"""Websocket: pushes HTML fragments about a user's requests to their open pages.

Each signed-in user joins `user.<pk>`; activities send small `request.changed`
events there (only to the people concerned: requester, old and new approvers,
their delegates), and this consumer renders them into out-of-band fragments
that htmx swaps in: the status badge, the inbox row (added when the request
now waits on the user or someone they stand in for, deleted otherwise), and
a marker that static/js/app.js turns into a `request-changed` trigger for
regions that refresh themselves.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.selectors import delegators_for

from .workflow.contract import Status


def scope_language(scope) -> str:
    """The page's language: the switcher's cookie, else the browser's Accept-Language."""
    candidates = [scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")]
    headers = dict(scope.get("headers", []))
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [code for code, _q in parse_accept_lang_header(accept) if code != "*"]
    for code in candidates:
        if not code:
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class EventsConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)  # never silently joined
            return
        self.user = user
        self.language = scope_language(self.scope)
        self.group = f"user.{user.pk}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Clients only listen; anything they send is ignored."""

    async def request_changed(self, event):
        html = await database_sync_to_async(self._render_in_language)(event)
        await self.send(text_data=html)

    def _render_in_language(self, event: dict) -> str:
        with translation.override(self.language):
            return self._render(event)

    def _render(self, event: dict) -> str:
        from .selectors.inbox import new_decision_id, row_from_event

        user = self.user
        # Delegations are read per event: one that starts or ends takes effect at once.
        mine = {user.username, *delegators_for(delegate=user)}
        pending = list(event.get("pending", []))
        in_inbox = (
            event.get("status") == Status.PENDING
            and bool(mine & set(pending))
            and event.get("requester") != user.username
        )
        row = None
        if in_inbox:
            on_behalf = "" if user.username in pending else next(p for p in pending if p in mine)
            row = row_from_event(event, on_behalf_of=on_behalf)
        return render_to_string(
            "approvals/_live.html",
            {
                "event": event,
                "event_json": json.dumps(
                    {"request_id": event["request_id"], "status": event["status"]}
                ),
                "in_inbox": in_inbox,
                "row": row,
                "user": user,
                "new_decision_id": new_decision_id,
            },
        )
