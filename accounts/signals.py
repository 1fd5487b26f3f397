"""Signals about people, for apps that must react without accounts importing them.

`person_deactivated` is sent after the transaction that deactivated a person
commits (keyword arguments `username` and `by`, the acting user or None). The
approvals app re-routes the levels waiting on the leaver (see
approvals/services/leavers.py); accounts never imports approvals.

`bank_details_changed` (keyword arguments `user`, `change`: the AccountAuditEntry)
and `bank_change_confirmed` (`user`, `change`, `confirmation`, `by`) are sent INSIDE
the transaction that changed or confirmed the details, with `send` (not robust): the
payouts app holds and releases payments there (payouts/holds.py), so a change whose
holds could not be written is not saved either.
"""

from django.dispatch import Signal

person_deactivated = Signal()
bank_details_changed = Signal()
bank_change_confirmed = Signal()
