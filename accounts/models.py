"""People, the reports-to org chart and out-of-office delegation.

Users are never deleted: requests, decisions and audit rows point at them,
so leaving the company means `is_active = False`.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    MANAGER = "manager", _("Manager")
    DIRECTOR = "director", _("Director")
    VP = "vp", _("VP")
    FINANCE = "finance", _("Finance")
    IT_LEAD = "it_lead", _("IT lead")
    ADMIN = "admin", _("Administrator")


# Groups of approvers (Django auth groups, edited in the admin): any one member
# decides a level addressed to the group.
FINANCE_GROUP = "finance"
IT_GROUP = "IT"


class UserQuerySet(models.QuerySet):
    def delete(self):
        """Bulk "delete" deactivates too, so no code path can erase a person.

        One by one through `user_deactivate`: each leaver's delegations end and the
        levels waiting on them move on.
        """
        from .services import user_deactivate  # services import this module

        people = list(self)
        for person in people:
            user_deactivate(user=person)
        return len(people), {}


class PersonManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    # The profile page's opt-out of the morning digest (approvals/effects/digest.py).
    receives_digest = models.BooleanField(
        _("daily digest"),
        default=True,
        help_text=_("Each morning, one mail listing what waits for your decision."),
    )
    # Payout (payouts/): where an approved expense is paid to and whose budget it uses.
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    cost_centre = models.ForeignKey(
        "payouts.CostCentre",
        verbose_name=_("cost centre"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="people",
    )
    # Business calendar (approvals/calendars.py): "" = the organisation's TIME_ZONE and
    # HOLIDAY_SUBDIVISION. Deadlines of levels this person decides count in it.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    holiday_subdivision = models.CharField(
        _("public holidays of"), max_length=10, blank=True, default=""
    )
    # The language of this person's pages once signed in and of every mail to them
    # (accounts/language.py); "" = the browser's choice for pages, LANGUAGE_CODE for mails.
    language = models.CharField(
        _("language"), max_length=8, blank=True, default="", choices=settings.LANGUAGES
    )

    # Identity provider links (accounts/oidc.py, accounts/scim/): the OpenID subject this
    # person signs in as, and the SCIM client's own id for them (`externalId`).
    oidc_subject = models.CharField(_("OpenID subject"), max_length=255, blank=True, db_index=True)
    external_id = models.CharField(_("external id"), max_length=255, blank=True, db_index=True)

    objects = PersonManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_auditor(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    def managers_above(self) -> Iterator[User]:
        """The reports-to chain upward, nearest first, up to (not including) the first
        person met twice or this person again: the one walk of the ladder (routing,
        the admin's chain, the cycle check)."""
        seen = {self.pk}
        manager = self.reports_to
        while manager is not None and manager.pk not in seen:
            seen.add(manager.pk)
            yield manager
            manager = manager.reports_to

    def clean(self) -> None:
        super().clean()
        if self.reports_to_id is None:
            return
        if self.pk is not None and self.reports_to_id == self.pk:
            raise ValidationError({"reports_to": _("A person cannot report to themselves.")})
        chain = list(self.managers_above())
        above = chain[-1].reports_to if chain else None
        if above is None:  # the chain ends: no cycle
            return
        if self.pk is not None and above.pk == self.pk:
            raise ValidationError(
                {"reports_to": _("This would create a cycle in the reporting chain.")}
            )
        # An existing cycle above us; refuse to extend it.
        raise ValidationError({"reports_to": _("The reporting chain above has a cycle.")})

    def save(self, *args, **kwargs) -> None:
        if self.reports_to_id is not None:
            self.clean()
        if not self._leaving(kwargs.get("update_fields")):
            super().save(*args, **kwargs)
            return
        # is_active flips to False here (e.g. the admin's change form): the same
        # leaver service as every other path, in the same transaction.
        from .services import user_deactivate  # services import this module

        with transaction.atomic():
            super().save(*args, **kwargs)
            user_deactivate(user=self, by=getattr(self, "_deactivated_by", None))

    def _leaving(self, update_fields) -> bool:
        """Whether this save deactivates a person who is active in the database."""
        if self.is_active or self.pk is None or getattr(self, "_deactivating", False):
            return False
        if update_fields is not None and "is_active" not in update_fields:
            return False
        return type(self).objects.filter(pk=self.pk, is_active=True).exists()

    def delete(self, *args, **kwargs):
        """Deactivate instead: history must keep pointing at this person."""
        from .services import user_deactivate  # services import this module

        user_deactivate(user=self)
        return 0, {}


class DelegationQuerySet(models.QuerySet):
    def active(self, on=None):
        today = on or timezone.localdate()
        return self.filter(starts_on__lte=today, ends_on__gte=today, delegate__is_active=True)


class Delegation(models.Model):
    """While active, `delegate` may see and decide `user`'s pending levels."""

    user = models.ForeignKey(
        User,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="delegations_given",
    )
    delegate = models.ForeignKey(
        User,
        verbose_name=_("delegate"),
        on_delete=models.PROTECT,
        related_name="delegations_received",
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="delegation_dates_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(user=models.F("delegate")), name="delegation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.delegate} ({self.starts_on}–{self.ends_on})"

    def clean(self) -> None:
        if self.user_id and self.user_id == self.delegate_id:
            raise ValidationError(_("You cannot delegate to yourself."))
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError(_("The end date must not be before the start date."))


class TokenScope(models.TextChoices):
    READ = "read", _("read: my requests, the inbox, status")
    DECIDE = "decide", _("decide: approve, reject, extend deadlines")
    SUBMIT = "submit", _("submit: submit, withdraw, resubmit my requests")


class AccessTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, owner__is_active=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class AccessToken(models.Model):
    """A personal access token for the JSON API.

    Only the SHA-256 of the token is stored: the token is 32 random bytes, so
    a fast hash is enough (no dictionary to guess from) and lookups stay one
    indexed query. `prefix` (the first characters) lets people tell tokens apart.
    """

    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="access_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.expired


class AccountEvent(models.TextChoices):
    """Kinds of account-level audit rows (a request's own rows are approvals.AuditEntry)."""

    BANK_CHANGED = "bank_details_changed", _("bank details changed")
    BANK_CONFIRMED = "bank_change_confirmed", _("bank details change confirmed by finance")
    STEP_UP_FAILED = "step_up_failed", _("wrong password at a step-up")


class AccountAuditEntry(models.Model):
    """Append-only audit log of a person's account (bank details, step-up failures).

    Keeps the actor's name and role as text, like the request audit, so history
    survives renames. A bank change that replaced earlier details needs a finance
    member's confirmation (`needs_confirmation`); it is confirmed by a later
    BANK_CONFIRMED row of the same person naming it, and superseded by a later change.
    """

    subject = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.PROTECT, related_name="account_audit"
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=40, choices=AccountEvent.choices)
    actor_username = models.CharField(_("by"), max_length=150, blank=True)
    actor_name = models.CharField(max_length=300, blank=True)
    actor_role = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    needs_confirmation = models.BooleanField(default=False)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("account audit entry")
        verbose_name_plural = _("account audit entries")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["subject", "kind", "at"], name="account_audit_subject")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.subject_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")


class Passkey(models.Model):
    """A WebAuthn credential a person registered on /accounts/passkeys/ (step-up)."""

    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(_("name"), max_length=100)
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class IdentityEventKind(models.TextChoices):
    SSO_SIGN_IN = "sso_sign_in", _("Signed in through single sign-on")
    SSO_REFUSED = "sso_refused", _("Single sign-on refused")
    PROVISIONED = "provisioned", _("Provisioned")
    PROVISION_UPDATED = "provision_updated", _("Provisioning update")
    DEPROVISIONED = "deprovisioned", _("Deactivated by provisioning")
    GROUP_CHANGED = "group_changed", _("Group membership changed")
    STEP_UP = "step_up", _("Step-up confirmed")
    STEP_UP_FAILED = "step_up_failed", _("Step-up failed")
    PASSKEY_ADDED = "passkey_added", _("Passkey added")
    PASSKEY_REMOVED = "passkey_removed", _("Passkey removed")


class IdentityEvent(models.Model):
    """Append-only audit of sign-in, provisioning and step-up (who, what, when).

    Names are kept as text (like the approvals audit) so a renamed or deactivated
    person never blanks the record; `details` holds the event's parameters."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=30, choices=IdentityEventKind.choices)
    subject_username = models.CharField(_("person"), max_length=150, db_index=True)
    actor = models.CharField(_("by"), max_length=150)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("identity event")
        verbose_name_plural = _("identity events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.subject_username}"
