"""Signals about people, for apps that must react without accounts importing them.

`person_deactivated` is sent after the transaction that deactivated a person
commits (keyword arguments `username` and `by`, the acting user or None). The
approvals app re-routes the levels waiting on the leaver (see
approvals/services/leavers.py); accounts never imports approvals.
"""

from django.dispatch import Signal

person_deactivated = Signal()
