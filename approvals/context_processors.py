from django.conf import settings

from .selectors.home import waiting_count


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "temporal_ui_url": settings.TEMPORAL_UI_URL,
        "is_auditor": bool(user and user.is_authenticated and user.is_superuser),
        # "API tokens" in the menu only for people who use them (else under the profile);
        # a callable, so pages that never show the menu never ask.
        "uses_tokens": lambda: bool(
            user and user.is_authenticated and (user.is_superuser or user.access_tokens.exists())
        ),
        # The navigation badge, rendered with the page (a callable: only pages with the
        # menu ask). The same count as GET /inbox/count/, which pushed events refresh.
        "inbox_waiting": lambda: (
            waiting_count(user) if user is not None and user.is_authenticated else 0
        ),
    }
