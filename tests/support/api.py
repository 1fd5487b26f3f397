"""JSON API callers: a personal access token for a user, and a client that sends it."""

from __future__ import annotations

from django.test import Client

from accounts import services as people
from approvals.models import ExpenseRequest

from .waiting import wait_for

ALL_SCOPES = ("read", "decide", "submit")


def token_for(user, *scopes: str, name: str = "") -> str:
    """A new token's secret for `user` with `scopes` (all of them by default)."""
    _, secret = people.token_create(
        owner=user, name=name or f"{user.username}-script", scopes=list(scopes or ALL_SCOPES)
    )
    return secret


class ApiClient:
    """A Django test client that sends `Authorization: Bearer <secret>` (and JSON)."""

    def __init__(self, secret: str = "", **headers: str) -> None:
        self.client = Client()
        self.headers = dict(headers)
        if secret:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: dict | None = None, **headers: str):
        return self.client.post(
            f"/api/v1{path}",
            body if body is not None else {},
            content_type="application/json",
            headers={**self.headers, **headers},
        )


def api_for(user, *scopes: str, **headers: str) -> ApiClient:
    return ApiClient(token_for(user, *scopes), **headers)


def wait_projected(request, approvers: list[str]) -> None:
    """Wait until the projection (what `can_view` reads) shows the level's `approvers`."""
    wait_for(lambda: ExpenseRequest.objects.get(pk=request.pk).pending_approvers == approvers)
