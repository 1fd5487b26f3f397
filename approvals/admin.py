from django.contrib import admin

from .models import ApprovalPolicy, AuditEntry, ExchangeRate, ExpenseRequest, PolicyVersion


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    """The escalation count only: thresholds, maximum and rules are policy versions,
    edited as a draft and published on /policy/ (the thresholds here are read only for
    a database without any published version)."""

    list_display = ("max_escalations", "updated_at")
    fields = ("max_escalations",)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """Readable here; edited and published on /policy/ (validation and what-if there)."""

    list_display = ("number", "status", "effective_from", "published_by", "published_at", "note")
    readonly_fields = (
        "number", "status", "rules", "note", "effective_from", "created_by", "published_by",
        "published_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Editable: a correction applies to requests submitted from now on (pinned rates stay)."""

    list_display = ("currency", "rate_date", "rate", "source", "updated_at")
    list_filter = ("currency",)
    search_fields = ("currency", "source")
    date_hierarchy = "rate_date"
    ordering = ("-rate_date", "currency")


@admin.register(ExpenseRequest)
class ExpenseRequestAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "title",
        "requester",
        "amount",
        "currency",
        "base_amount_cents",
        "status",
        "created_at",
    )
    list_filter = ("status", "currency", "category")
    search_fields = ("title", "requester__username")
    readonly_fields = [f.name for f in ExpenseRequest._meta.fields]

    def has_add_permission(self, request):
        return False  # requests start workflows: submit them through the app

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "request", "kind", "actor_username", "channel")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
