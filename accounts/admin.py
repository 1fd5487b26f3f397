from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Delegation, User


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "reports_to", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Organisation"), {"fields": ("role", "title", "reports_to")}),
    )
    actions = ["deactivate"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: history must survive

    @admin.action(description=_("Deactivate selected people"))
    def deactivate(self, request, queryset):
        queryset.update(is_active=False)


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("user", "delegate", "starts_on", "ends_on")
