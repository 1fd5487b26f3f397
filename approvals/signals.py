"""Receivers: sockets end with their session (logout closes them, a user's save
re-checks them), and a leaver's levels are re-routed.

The socket receivers only address the channel layer; the consumer decides
(consumers.py). accounts announces leavers (`person_deactivated`, after the
deactivation commits) without importing approvals; the re-route is here.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.signals import person_deactivated

from .channel_groups import session_group
from .services.leavers import leaver_reroute

log = logging.getLogger(__name__)


def _send(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _deliver(layer, group, event)
        return
    # This thread runs an event loop (a sync caller inside one, as Playwright's sync API
    # makes the tests' main thread): async_to_sync refuses it, so a thread of its own sends.
    sender = threading.Thread(target=_deliver, args=(layer, group, event), daemon=True)
    sender.start()
    sender.join(timeout=5)


def _deliver(layer, group: str, event: dict) -> None:
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # a layer outage must not break logging out; pushes re-check anyway
        log.warning("could not tell %s: %s", group, event["type"], exc_info=True)


@receiver(user_logged_out, dispatch_uid="approvals.close_session_sockets")
def close_session_sockets(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        _send(session_group(session_key), {"type": "session.ended"})


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="approvals.recheck_sockets")
def recheck_user_sockets(sender, instance, **kwargs) -> None:
    """A password change or deactivation ends that user's other sessions' sockets."""
    group = f"user.{instance.pk}"
    transaction.on_commit(lambda: _send(group, {"type": "session.check"}))


@receiver(person_deactivated, dispatch_uid="approvals.reroute_leaver")
def reroute_leaver(sender, *, username: str, by=None, **kwargs) -> None:
    """Move every level waiting on the leaver on (the `reroute` Update, one per request)."""
    try:
        leaver_reroute(username=username)
    except Exception:  # the deactivation stands whatever happens here
        log.exception("could not re-route the requests waiting on %s", username)
