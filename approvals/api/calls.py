"""Every API call by a known caller is recorded (`ApiCall`): who, which token, what,
on which request, and the answer's status. A middleware, so refusals, 403s and
429s are recorded as well as successes."""

from __future__ import annotations

from ..models import ApiCall, ExpenseRequest

API_PREFIX = "/api/"
MAX_PK = 2**63 - 1


def _request_id(match) -> int | None:
    raw = (match.kwargs or {}).get("pk") if match else None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    if not 1 <= pk <= MAX_PK:
        return None
    return pk if ExpenseRequest.objects.filter(pk=pk).exists() else None


def record(request, response) -> ApiCall | None:
    token = getattr(request, "api_token", None)
    user = token.owner if token is not None else getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    match = request.resolver_match
    return ApiCall.objects.create(
        username=user.username,
        token=token,
        token_name=token.name if token is not None else "",
        method=request.method[:10],
        path=request.path[:300],
        action=(match.url_name or "")[:60] if match else "",
        request_id=_request_id(match),
        status_code=response.status_code,
    )


class ApiCallLog:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            record(request, response)
        return response
