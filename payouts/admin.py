from django.contrib import admin

from .models import Batch, CostCentre, LedgerAccount, Payment


@admin.register(CostCentre)
class CostCentreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "year", "budget_cents", "closed")
    list_editable = ("budget_cents", "closed")
    search_fields = ("code", "name")


@admin.register(LedgerAccount)
class LedgerAccountAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "closed")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "status", "period", "opened_at", "closed_at")
    readonly_fields = ("sepa_xml", "outcome")


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("request_id", "requester", "amount_cents", "status", "reason", "batch")
    list_filter = ("status",)
    readonly_fields = [f.name for f in Payment._meta.fields]
