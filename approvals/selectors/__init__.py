"""Reads: who may see a request and lists (`requests`), the inbox from visibility
(`inbox`), the audit timeline (`timeline*`) and the audit search (`audit`)."""

from .requests import access_request, can_view, request_url, requests_of

__all__ = ["access_request", "can_view", "request_url", "requests_of"]
