"""What every service shares: the refusal a user reads, as a code plus parameters."""

from __future__ import annotations

from ..labels import ServiceCode, refusal_text


class ServiceError(Exception):
    """A refusal or failure: a stable `code` (contract.Refusal or labels.ServiceCode) and
    its parameters; `message` words it in the active language when it is read."""

    def __init__(self, code: str, params: dict | None = None) -> None:
        self.code = code
        self.params = dict(params or {})
        super().__init__(code)

    @property
    def message(self) -> str:
        return refusal_text(self.code, self.params)

    def __str__(self) -> str:
        return self.message


UNAVAILABLE = ServiceCode.UNAVAILABLE
