"""Admin for people and the org chart.

People are deactivated, never deleted (the delete permission is off and the
model turns deletes into deactivation). A reports-to cycle is refused by
`User.clean()`, which the admin's model form runs on save.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import AccessToken, AccountAuditEntry, Delegation, IdentityEvent, Passkey, User
from .selectors import manager_chain
from .services import user_deactivate

ORGANISATION = (_("Organisation"), {"fields": ("role", "title", "reports_to")})


class DirectReportsInline(admin.TabularInline):
    """Read-only list of who reports to this person (edit them on their own page)."""

    model = User
    fk_name = "reports_to"
    fields = ("username", "first_name", "last_name", "role", "is_active")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("direct report")
    verbose_name_plural = _("direct reports")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = (
        "username",
        "first_name",
        "last_name",
        "role",
        "title",
        "reports_to",
        "is_active",
    )
    list_filter = ("role", "is_active", "is_superuser")
    list_select_related = ("reports_to",)
    search_fields = ("username", "first_name", "last_name", "email", "title")
    # Bank details change only through /accounts/bank/ (the person, with the step-up, an
    # audit row, mails and the payout hold): an admin editing them here would bypass all that.
    readonly_fields = ("management_chain", "iban", "bic")
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Organisation"), {"fields": ("role", "title", "reports_to", "management_chain")}),
        (_("Payout"), {"fields": ("cost_centre", "iban", "bic")}),
        (_("Business calendar"), {"fields": ("time_zone", "holiday_subdivision")}),
    )
    add_fieldsets = (*UserAdmin.add_fieldsets, ORGANISATION)
    inlines = [DirectReportsInline]
    actions = ["deactivate", "reactivate"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: history must survive

    def save_model(self, request, obj, form, change):
        # Unticking "active" deactivates through the leaver service (User.save);
        # this records who did it.
        obj._deactivated_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("Management chain"))
    def management_chain(self, obj: User) -> str:
        chain = manager_chain(user=obj, depth=20) if obj.pk else []
        if not chain:
            return _("(top of the organisation)")
        return format_html_join(" → ", "{}", ((manager,) for manager in chain))

    @admin.action(description=_("Deactivate selected people"))
    def deactivate(self, request, queryset):
        # One by one through the leaver service (never queryset.update): their
        # delegations end and the levels waiting on them move on.
        count = 0
        for person in queryset.filter(is_active=True):
            user_deactivate(user=person, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d person deactivated.", "%(count)d people deactivated.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reactivate selected people"))
    def reactivate(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(
            request,
            ngettext("%(count)d person reactivated.", "%(count)d people reactivated.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("user", "delegate", "starts_on", "ends_on")
    list_filter = ("starts_on", "ends_on")
    list_select_related = ("user", "delegate")
    search_fields = ("user__username", "delegate__username")


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Admins see and revoke anyone's tokens; the secret is never stored, so never shown."""

    list_display = (
        "name",
        "owner",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at", "expires_at")
    list_select_related = ("owner",)
    search_fields = ("name", "prefix", "owner__username")
    readonly_fields = (
        "owner",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # made on /accounts/tokens/, where the secret is shown once

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: API call records name the token

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class AppendOnlyAdmin(admin.ModelAdmin):
    """An audit table in the admin: read, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountAuditEntry)
class AccountAuditEntryAdmin(AppendOnlyAdmin):
    """The account audit log, read-only (rows are append-only)."""

    list_display = ("at", "subject", "kind", "actor_username", "ip", "needs_confirmation")
    list_filter = ("kind", "at")
    list_select_related = ("subject",)
    search_fields = ("subject__username", "actor_username")
    readonly_fields = (
        "subject",
        "at",
        "kind",
        "actor_username",
        "actor_name",
        "actor_role",
        "ip",
        "needs_confirmation",
        "detail",
    )
    fields = readonly_fields


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    """People add passkeys themselves (/accounts/passkeys/); an admin may remove a lost one."""

    list_display = ("name", "owner", "created_at", "last_used_at")
    search_fields = ("name", "owner__username")
    fields = ("owner", "name", "created_at", "last_used_at", "sign_count")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdentityEvent)
class IdentityEventAdmin(AppendOnlyAdmin):
    """The identity audit: sign-in through SSO, provisioning, step-ups. Append-only."""

    list_display = ("at", "kind", "subject_username", "actor")
    list_filter = ("kind",)
    search_fields = ("subject_username", "actor")
    fields = ("at", "kind", "subject_username", "actor", "details")
    readonly_fields = fields
