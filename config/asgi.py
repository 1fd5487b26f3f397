"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from approvals.routing import websocket_urlpatterns  # noqa: E402
from core.admission import Admission  # noqa: E402
from core.body_limit import BodySizeLimit  # noqa: E402
from core.ws_origin import SameOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Oversized bodies get 413 before a byte of them is read; then at most
        # WEB_MAX_INFLIGHT requests in Django, the rest queue or get 503 (admission.py).
        "http": BodySizeLimit(Admission(django_asgi_app)),
        # Origin by scheme, host and port (core/ws_origin.py), then the session.
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
