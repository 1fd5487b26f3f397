"""Websocket: pushes HTML fragments about a user's requests to their open pages.

Each signed-in user joins `user.<pk>`; activities send small `request.changed`
events there (only to the people concerned: requester, old and new approvers,
their delegates), and this consumer renders them into out-of-band fragments
that htmx swaps in: the status badge, the inbox row (added when the request
now waits on the user or someone they stand in for, deleted otherwise), and
a marker that static/js/app.js turns into a `request-changed` trigger for
regions that refresh themselves.

A request page's socket also watches that request (`/ws/events/?watch=<pk>`, joined
only if the user may see it, checked again before each push): whoever has the page
open (an administrator, a later level's approver, an auditor) hears of its changes
too, as a badge and the marker, never the inbox row. People already told through
their own group are skipped (`to`), so nobody gets a change twice.

A socket lives only as long as its session: it also joins `session.<hash>`,
told at logout (approvals/signals.py) to close it; a user's saves (password
change, deactivation) ask every socket of theirs to check its session; and the
session is checked before each push and every WS_SESSION_CHECK_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.template.loader import render_to_string
from django.utils import translation

from accounts.language import language_of
from accounts.selectors import delegators_for
from core.language import scope_language

from . import ports
from .channel_groups import request_group, session_group
from .workflow.contract import Status

SESSION_ENDED = 4401  # the close code of a socket whose session is gone


def watched_request(query_string: bytes) -> int | None:
    """The request a page asks to watch (`?watch=<pk>`), None for none or nonsense."""
    values = parse_qs(query_string.decode("latin-1")).get("watch", [])
    return int(values[0]) if values and values[0].isdigit() and len(values[0]) < 12 else None


def may_watch(user, request_id: int) -> bool:
    from .models import ExpenseRequest
    from .selectors import can_view

    request = ExpenseRequest.objects.filter(pk=request_id).first()
    return request is not None and can_view(user=user, request=request)


def session_still_valid(session_key: str, user_pk: int) -> bool:
    """True while the session exists, is unexpired, belongs to this active user and
    still carries their current password hash (what Django checks per request)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    current = get_user(SimpleNamespace(session=store))
    return current.is_authenticated and current.pk == user_pk


class EventsConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        if user is None or not user.is_authenticated or not user.is_active or not session_key:
            await self.close(code=4401)  # never silently joined
            return
        self.user = user
        self.session_key = session_key
        # The person's profile language wins, as on their pages (accounts/language.py).
        self.language = (
            language_of(user) if getattr(user, "language", "") else scope_language(self.scope)
        )
        self.groups_joined = [f"user.{user.pk}", session_group(session_key)]
        self.watching = watched_request(self.scope.get("query_string", b""))
        if self.watching is not None:
            if await database_sync_to_async(may_watch)(user, self.watching):
                self.groups_joined.append(request_group(self.watching))
            else:
                self.watching = None  # not theirs to see: the page just does not follow it
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.watch = asyncio.create_task(self._watch_session())

    async def disconnect(self, code):
        if hasattr(self, "watch"):
            self.watch.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Clients only listen; anything they send is ignored."""

    async def _session_valid(self) -> bool:
        return await database_sync_to_async(session_still_valid)(self.session_key, self.user.pk)

    async def _end(self) -> None:
        if hasattr(self, "watch") and self.watch is not asyncio.current_task():
            self.watch.cancel()
        await self.close(code=SESSION_ENDED)

    async def _watch_session(self) -> None:
        """Expiry sends no signal: look again now and then."""
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(settings.WS_SESSION_CHECK_SECONDS)
                if not await self._session_valid():
                    await self._end()
                    return

    async def session_ended(self, event):
        await self._end()

    async def session_check(self, event):
        if not await self._session_valid():
            await self._end()

    async def request_changed(self, event):
        if not await self._session_valid():
            await self._end()  # nothing more for a session that ended
            return
        html = await database_sync_to_async(self._render_in_language)(event)
        await self.send(text_data=html)

    async def request_watched(self, event):
        """A change of the request this page shows, for a watcher not told otherwise."""
        if self.user.pk in event.get("to", []):
            return  # told through user.<pk> already
        if not await self._session_valid():
            await self._end()
            return
        if not await database_sync_to_async(may_watch)(self.user, int(event["request_id"])):
            return  # no longer theirs to see (e.g. a delegation ended)
        html = await database_sync_to_async(self._render_in_language)(event, watch_only=True)
        await self.send(text_data=html)

    async def payout_changed(self, event):
        """A payout step changed the payment: swap the request page's payment status."""
        if not await self._session_valid():
            await self._end()
            return
        html = await database_sync_to_async(self._render_payout)(event)
        await self.send(text_data=html)

    def _render_payout(self, event: dict) -> str:
        with translation.override(self.language):
            return render_to_string(
                "payouts/_payment_status.html",
                {
                    "payment": ports.payment_for(int(event["request_id"])),
                    "request_id": event["request_id"],
                    "oob": True,
                },
            )

    def _render_in_language(self, event: dict, *, watch_only: bool = False) -> str:
        with translation.override(self.language):
            return self._render(event, watch_only=watch_only)

    def _render(self, event: dict, *, watch_only: bool = False) -> str:
        from .selectors.inbox import new_decision_id, row_from_event, with_budget_left
        from .selectors.live import announcement

        user = self.user
        # Delegations are read per event: one that starts or ends takes effect at once.
        mine = {user.username, *delegators_for(delegate=user)}
        pending = list(event.get("pending", []))
        in_inbox = (
            not watch_only
            and event.get("status") == Status.PENDING
            and bool(mine & set(pending))
            and event.get("requester") != user.username
        )
        row = None
        if in_inbox:
            on_behalf = "" if user.username in pending else next(p for p in pending if p in mine)
            row = with_budget_left([row_from_event(event, on_behalf_of=on_behalf)])[0]
        return render_to_string(
            "approvals/_live.html",
            {
                "event": event,
                "event_json": json.dumps(
                    {"request_id": event["request_id"], "status": event["status"]}
                ),
                "in_inbox": in_inbox,
                "watch_only": watch_only,
                "announce": announcement(event),
                "row": row,
                "user": user,
                "new_decision_id": new_decision_id,
            },
        )
