"""What every service shares: the error a user reads."""

from __future__ import annotations

UNAVAILABLE = (
    "The approval service is not reachable right now. "
    "Nothing was changed; please try again in a moment."
)


class ServiceError(Exception):
    """A refusal or failure with a message for the user."""
