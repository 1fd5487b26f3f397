"""The client's IP address, trusting X-Forwarded-For only from configured proxies.

`TRUSTED_PROXY_COUNT` proxies stand in front of the app (default 0). With none,
X-Forwarded-For is whatever the client typed and is ignored: the address is
the connection's peer. With N, each proxy appends the address it saw, so the
client is the N-th entry from the right; entries further left are the
client's own claims. django-axes keys its lockouts on this
(`AXES_CLIENT_IP_CALLABLE`); uvicorn's proxy-header rewriting follows the
same setting (`manage.py serve`, FORWARDED_ALLOW_IPS).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    peer = request.META.get("REMOTE_ADDR") or None
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return peer
    chain = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(chain) < count:
        return peer  # not through all our proxies: the peer is all we know
    candidate = chain[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
