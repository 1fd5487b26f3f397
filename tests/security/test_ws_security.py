"""Websocket security through the real ASGI application (config.asgi).

Foreign origins (another scheme, host or port) and a missing Origin are
refused by core.ws_origin before anything else; a socket closes when its
session ends (logout, password change, deactivation, expiry); anonymous and
deactivated users are closed, never joined; a signed-in user hears only about
their own group; pushed fragments escape markup carried in the event.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tests.support.ws import Socket
from tests.support.ws import session_cookie as _session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

XSS = '<script>alert("xss")</script>'
ORIGIN = b"http://localhost"


async def connect(user=None, origin: bytes | None = ORIGIN, host=b"localhost", cookie=None):
    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None and cookie is None:
        cookie = await database_sync_to_async(_session_cookie)(user)
    if cookie is not None:
        headers.append((b"cookie", cookie))
    communicator = Socket(headers)
    connected = await communicator.connect()
    code = communicator.close_code
    return communicator, connected, code


@pytest.fixture
def people(demo_org):
    return demo_org


async def test_signed_in_user_with_our_origin_connects(people):
    communicator, connected, _ = await connect(people["max"])
    assert connected
    await communicator.disconnect()


async def test_foreign_or_missing_origin_is_refused(people):
    for origin in (b"http://evil.example", b"null", b"http://localhost.evil.example", None):
        communicator, connected, _ = await connect(people["max"], origin=origin)
        assert not connected, origin
        await communicator.disconnect()


async def test_origin_must_match_scheme_host_and_port(people, settings):
    max_ = people["max"]
    site = b"127.0.0.1:8000"
    refused = [
        b"http://127.0.0.1:9999",  # another program on this machine
        b"http://127.0.0.1",  # port 80 is another origin
        b"https://127.0.0.1:8000",  # another scheme
        b"http://localhost:8000",  # another host than the one the socket came to
    ]
    for origin in refused:
        communicator, connected, _ = await connect(max_, origin=origin, host=site)
        assert not connected, origin
    communicator, connected, _ = await connect(max_, origin=b"http://127.0.0.1:8000", host=site)
    assert connected
    await communicator.disconnect()
    # A host outside ALLOWED_HOSTS is refused even when Origin and Host agree.
    communicator, connected, _ = await connect(
        max_, origin=b"http://evil.example:8000", host=b"evil.example:8000"
    )
    assert not connected
    # A configured trusted origin (e.g. TLS ended at a proxy) is accepted exactly.
    settings.CSRF_TRUSTED_ORIGINS = ["https://approvals.example.com"]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "approvals.example.com"]
    host = b"approvals.example.com"
    communicator, connected, _ = await connect(
        max_, origin=b"https://approvals.example.com", host=host
    )
    assert connected
    await communicator.disconnect()
    communicator, connected, _ = await connect(
        max_, origin=b"https://approvals.example.com:8443", host=host
    )
    assert not connected


async def test_anonymous_socket_is_closed_not_joined():
    communicator, connected, code = await connect(None)
    assert not connected
    assert code == 4401


async def test_deactivated_user_is_closed(people):
    max_ = people["max"]
    communicator_ok, connected, _ = await connect(max_)
    assert connected
    await communicator_ok.disconnect()
    max_.is_active = False
    await database_sync_to_async(max_.save)(update_fields=["is_active"])
    communicator, connected, _ = await connect(max_)
    assert not connected


async def test_events_reach_only_their_user_and_markup_is_escaped(people):
    emma, finn = people["emma"], people["finn"]
    emma_ws, ok_emma, _ = await connect(emma)
    finn_ws, ok_finn, _ = await connect(finn)
    assert ok_emma and ok_finn
    event = {
        "type": "request.changed",
        "request_id": 4242,
        "status": "pending",
        "title": XSS,
        "requester": "emma",
        "requester_display": XSS,
        "pending": ["max"],
        "amount_cents": 1000,
        "currency": "EUR",
    }
    await get_channel_layer().group_send(f"user.{emma.pk}", event)
    html = await emma_ws.receive_from(timeout=5)
    assert "4242" in html
    assert XSS not in html
    assert await finn_ws.receive_nothing(timeout=0.5)  # finn's group heard nothing
    # What a client sends is ignored, never echoed or acted on.
    await finn_ws.send_to(text_data=XSS)
    assert await finn_ws.receive_nothing(timeout=0.5)
    await emma_ws.disconnect()
    await finn_ws.disconnect()


# ------------------------------------------------------------ session lifetime
def _signed_in(user):
    """A browser session for `user`: its test client and the socket's Cookie header."""
    from django.conf import settings as dj_settings
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    name = dj_settings.SESSION_COOKIE_NAME
    return browser, f"{name}={browser.cookies[name].value}".encode()


async def _closed_within_a_second(socket) -> int:
    answer = await socket.receive_output(1)
    assert answer["type"] == "websocket.close", answer
    return answer.get("code")


async def test_logout_closes_the_sessions_socket_within_a_second(people):
    finn = people["finn"]
    browser, cookie = await database_sync_to_async(_signed_in)(finn)
    other_browser, other_cookie = await database_sync_to_async(_signed_in)(finn)
    socket, connected, _ = await connect(finn, cookie=cookie)
    other, other_connected, _ = await connect(finn, cookie=other_cookie)
    assert connected and other_connected
    response = await database_sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    assert await _closed_within_a_second(socket) == 4401
    # finn's other browser stays signed in and keeps its socket.
    assert await other.receive_nothing(timeout=0.3)
    await other.disconnect()


async def test_push_after_the_session_is_gone_closes_instead_of_sending(people):
    from django.contrib.sessions.models import Session

    finn = people["finn"]
    browser, cookie = await database_sync_to_async(_signed_in)(finn)
    socket, connected, _ = await connect(finn, cookie=cookie)
    assert connected
    key = browser.session.session_key
    # Expired (or flushed elsewhere): no signal is sent, the next push notices.
    await database_sync_to_async(Session.objects.filter(session_key=key).delete)()
    event = {
        "type": "request.changed",
        "request_id": 77,
        "status": "pending",
        "title": "Secret",
        "requester": "finn",
        "requester_display": "Finn",
        "pending": ["max"],
        "amount_cents": 1,
        "currency": "EUR",
    }
    await get_channel_layer().group_send(f"user.{finn.pk}", event)
    answer = await socket.receive_output(2)
    assert answer["type"] == "websocket.close", answer  # no fragment first


async def test_idle_socket_closes_when_its_session_expires(people, settings):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    settings.WS_SESSION_CHECK_SECONDS = 0.2
    finn = people["finn"]
    browser, cookie = await database_sync_to_async(_signed_in)(finn)
    socket, connected, _ = await connect(finn, cookie=cookie)
    assert connected
    key = browser.session.session_key
    await database_sync_to_async(Session.objects.filter(session_key=key).update)(
        expire_date=timezone.now()
    )
    assert await _closed_within_a_second(socket) == 4401


async def test_password_change_and_deactivation_close_other_sessions_sockets(people):
    finn = people["finn"]
    _browser, cookie = await database_sync_to_async(_signed_in)(finn)
    socket, connected, _ = await connect(finn, cookie=cookie)
    assert connected

    def change_password():
        finn.set_password("a-new-long-password-42")
        finn.save()

    await database_sync_to_async(change_password)()
    assert await _closed_within_a_second(socket) == 4401

    max_ = people["max"]
    _browser, cookie = await database_sync_to_async(_signed_in)(max_)
    socket, connected, _ = await connect(max_, cookie=cookie)
    assert connected
    max_.is_active = False
    await database_sync_to_async(max_.save)(update_fields=["is_active"])
    assert await _closed_within_a_second(socket) == 4401


async def test_a_save_made_inside_a_running_event_loop_still_closes_the_sockets(
    people, redis_layer, monkeypatch
):
    """A sync caller inside an event loop (as Playwright's sync API makes the browser tests'
    main thread) saves a person: async_to_sync refuses that thread, so the receiver sends
    from a thread of its own instead of logging "could not tell" and leaving the socket."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    finn = people["finn"]
    _browser, cookie = await database_sync_to_async(_signed_in)(finn)
    socket, connected, _ = await connect(finn, cookie=cookie)
    assert connected
    finn.set_password("another-long-password-43")
    finn.save()  # in this thread, whose loop is running
    assert await _closed_within_a_second(socket) == 4401
