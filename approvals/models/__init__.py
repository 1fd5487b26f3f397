"""Request content (system of record) and the projection of approval state.

The workflow owns the approval state. Its projection here (`status`,
`current_level`, `pending_approvers`, the `ApprovalStep` rows) is written by
`effects.projection.apply_state`, from two places: the `record_transition`
activity after every transition, and `services.commands._update` right after
an Update returns (so a redirect shows the new state before the activity has
run). Both are guarded by the workflow's sequence number (`state_seq`), so a
retried or late write never moves a request backwards. Before the first
state arrives, submitting saves the request `queued` and `temporal.starter`
marks it `pending` once its workflow has started (only while `state_seq` is
0). `AuditEntry` rows of the workflow are appended by the activity alone,
keyed so a retry adds none.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import IntegrityError, models
from django.utils.translation import gettext_lazy as _

from .. import money


class RequestStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    PENDING = "pending", _("pending")
    CHANGES_REQUESTED = "changes_requested", _("changes requested")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired")


class Category(models.TextChoices):
    TRAVEL = "travel", _("Travel")
    MEALS = "meals", _("Meals and entertainment")
    EQUIPMENT = "equipment", _("Equipment")
    SOFTWARE = "software", _("Software")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


CURRENCIES = [
    ("EUR", "EUR"),
    ("USD", "USD"),
    ("GBP", "GBP"),
    ("CHF", "CHF"),
    ("SEK", "SEK"),
    ("DKK", "DKK"),
    ("NOK", "NOK"),
    ("PLN", "PLN"),
    ("CZK", "CZK"),
    ("JPY", "JPY"),
]


class ExchangeRate(models.Model):
    """A reference rate: `rate` units of `currency` buy 1 EUR on `rate_date`.

    Loaded from the ECB's CSV files (`manage.py load_fx_rates`) and editable in
    the admin. A request pins the newest rate on or before its submission day;
    changing a rate here never changes a submitted request.
    """

    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(
        _("rate (units per 1 EUR)"),
        max_digits=18,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0.000001"))],
    )
    rate_date = models.DateField(_("rate date"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-rate_date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "rate_date"], name="one_rate_per_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="fx_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 EUR = {self.rate} {self.currency} ({self.rate_date})"


class ApprovalPolicy(models.Model):
    """The policy admins edit; each request snapshots it at submission.

    Its amounts are in the base currency, EUR.
    """

    two_levels_from = models.DecimalField(
        _("two levels from"), max_digits=12, decimal_places=2, default=Decimal("1000.00")
    )
    three_levels_from = models.DecimalField(
        _("three levels from"), max_digits=12, decimal_places=2, default=Decimal("10000.00")
    )
    max_amount = models.DecimalField(
        _("maximum amount"), max_digits=12, decimal_places=2, default=Decimal("1000000.00")
    )
    max_escalations = models.PositiveSmallIntegerField(_("escalations before expiry"), default=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policy")

    def __str__(self) -> str:
        return str(_("Approval policy"))

    @classmethod
    def current(cls) -> ApprovalPolicy:
        policy = cls.objects.order_by("pk").first()
        return policy or cls.objects.create()


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")


class PolicyVersion(models.Model):
    """One version of the approval policy: rules as data (`policy.rules.PolicyRules`).

    At most one draft; published versions never change. A request pins the published
    version in force (effective) at its submission and keeps it to its end.
    """

    number = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    rules = models.JSONField(_("rules"), default=dict)  # PolicyRules.to_dict(), validated
    note = models.CharField(_("note"), max_length=200, blank=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="draft"), name="one_policy_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Policy')} v{self.number} ({self.get_status_display()})"


class ExpenseRequest(models.Model):
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expense_requests"
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="EUR")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    receipt = models.FileField(_("receipt"), upload_to="receipts/%Y/%m/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The policy in force at submission, so a late (reconciled) start uses it too.
    policy_snapshot = models.JSONField(default=dict, blank=True)
    # The published policy version in force at submission (null: before versions).
    policy_version = models.PositiveIntegerField(_("policy version"), null=True, blank=True)
    # Pinned at submission: the amount in EUR at the newest rate on or before the
    # submission day (units of `currency` per 1 EUR) and that rate's date. Null only
    # for requests saved before rates existed.
    base_amount_cents = models.BigIntegerField(_("amount in EUR (cents)"), null=True, blank=True)
    fx_rate = models.DecimalField(
        _("exchange rate"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    fx_rate_date = models.DateField(_("exchange rate date"), null=True, blank=True)
    # Set once the workflow is known to exist (start succeeded or already started).
    workflow_started_at = models.DateTimeField(null=True, blank=True)
    # The new-request form's one-time token: a repeated or parallel POST of the same
    # form finds this request instead of creating another (services.expense_submit).
    submit_token = models.UUIDField(null=True, blank=True, editable=False)

    # Projection of the workflow's state (see the module docstring for who writes it).
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.QUEUED, db_index=True
    )
    current_level = models.PositiveSmallIntegerField(default=0)
    levels = models.PositiveSmallIntegerField(default=0)
    pending_approvers = models.JSONField(default=list, blank=True)
    chain_usernames = models.JSONField(default=list, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    state_seq = models.PositiveIntegerField(default=0)
    # Why a pending request waits on nobody (e.g. "needs_approver"); "" = it does not.
    waiting_reason = models.CharField(max_length=40, blank=True, default="")
    # The newest hash of the request's audit chain, written in the same commit as the
    # rows (approvals/audit_chain.py): `audit_verify` compares the chain's end with it.
    audit_head = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["requester", "-created_at"]),
            # /ops/: pending requests that wait on nobody, from one indexed query.
            models.Index(
                fields=["status", "waiting_reason"],
                name="expense_waiting_on_nobody",
                condition=~models.Q(waiting_reason=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="expense_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["requester", "submit_token"], name="expense_one_request_per_submit_token"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def amount_cents(self) -> int:
        """The amount in the currency's minor units (yen for JPY: no cents)."""
        return money.to_minor(self.amount, self.currency)

    @property
    def base_amount(self) -> Decimal | None:
        """The pinned amount in EUR, or None for a request from before rates existed."""
        if self.base_amount_cents is None:
            return None
        return money.from_minor(self.base_amount_cents, money.BASE_CURRENCY)

    @property
    def converted(self) -> bool:
        """Whether the page should show the EUR amount and the rate next to the amount."""
        return self.currency != money.BASE_CURRENCY and self.base_amount_cents is not None


class ApprovalStep(models.Model):
    """One level of a request's chain as the workflow last reported it."""

    request = models.ForeignKey(ExpenseRequest, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField()
    approvers = models.JSONField(default=list)
    status = models.CharField(max_length=20, default="waiting")
    due_at = models.DateTimeField(null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(default=0)
    decided_by = models.CharField(max_length=150, blank=True)
    on_behalf_of = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=20, blank=True)  # LevelKind; "" = a manager level
    label = models.CharField(max_length=150, blank=True)  # "manager", a group, a username

    class Meta:
        ordering = ["request", "level"]
        constraints = [
            models.UniqueConstraint(fields=["request", "level"], name="one_step_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.request_id} level {self.level}"


class AuditEntry(models.Model):
    """Append-only audit log; keeps names and roles as text so history survives."""

    request = models.ForeignKey(ExpenseRequest, on_delete=models.PROTECT, related_name="audit")
    key = models.CharField(max_length=80)  # idempotency key within the request
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=40)
    level = models.PositiveSmallIntegerField(default=0)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_name = models.CharField(max_length=300, blank=True)
    actor_role = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, default="workflow")
    # The hash chain (approvals/audit_chain.py): the row before this one's hash, and
    # this row's own (SHA-256 of its canonical content, prev_hash included).
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    entry_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["request", "key"], name="audit_key_unique")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.actor_username}"

    def save(self, *args, **kwargs):
        """A new row is chained like every other (audit_chain.append); no row changes."""
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        from ..audit_chain import append  # it imports this module

        if not append(self.request_id, [self]):
            raise IntegrityError(f"audit entry {self.key!r} of request {self.request_id} exists")

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")


class NotificationStatus(models.TextChoices):
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Notification(models.Model):
    """Emails sent (so a retried activity does not mail twice) or failed for good.

    A failed row keeps the cause and the mail as it was composed, so `/ops/` can
    show why and resend it once the cause is mended (e.g. the address fixed).
    """

    # None for a mail about no one request: a digest or a report (key "digest:<day>", ...).
    request = models.ForeignKey(ExpenseRequest, on_delete=models.CASCADE, null=True, blank=True)
    key = models.CharField(max_length=120)
    recipient = models.CharField(max_length=150)
    sent_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.SENT
    )
    error = models.TextField(blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "key", "recipient"], name="notify_once"),
            # NULLs are distinct in a unique index: mails of no request need their own.
            models.UniqueConstraint(
                fields=["key", "recipient"],
                condition=models.Q(request__isnull=True),
                name="notify_once_without_request",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status"], name="notification_failed", condition=models.Q(status="failed")
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.recipient}"


class OpsIssue(models.Model):
    """An activity failing repeatedly (attempt >= N) for one workflow, until it succeeds.

    Written by the worker's activity wrapper, so `/ops/` lists them from one query
    instead of describing every running workflow.
    """

    request = models.ForeignKey(
        ExpenseRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="ops_issues"
    )
    workflow_id = models.CharField(max_length=200)
    activity = models.CharField(max_length=100)
    attempt = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow_id", "activity"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_ops_issue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} {self.activity} attempt {self.attempt}"


class ApiCall(models.Model):
    """One call of the JSON API by a signed-in person (token or browser session).

    Kept as text (token name, username) like the audit table, so a revoked
    token or a renamed user never blanks it. Decisions made through the API
    are listed on the request's audit page from here: the workflow's own audit
    rows know the actor, this row adds "via API token <name>".
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150)
    token = models.ForeignKey(
        "accounts.AccessToken", null=True, blank=True, on_delete=models.SET_NULL
    )
    token_name = models.CharField(max_length=100, blank=True)  # empty: a browser session
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    action = models.CharField(max_length=60)  # the operation (url name), e.g. "api-decision"
    request = models.ForeignKey(
        ExpenseRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="api_calls"
    )
    status_code = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["request", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.method} {self.path} {self.status_code}"


# A report's lines and their spend-check flags (issue 27): their own modules, re-exported
# so `approvals.models.ExpenseLine` and `approvals.models.LineFlag` work.
from .flags import LineFlag  # noqa: E402, F401
from .lines import ExpenseLine, LineStatus  # noqa: E402, F401
from .rounds import ReportRound  # noqa: E402, F401
