from django.conf import settings


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "temporal_ui_url": settings.TEMPORAL_UI_URL,
        "is_auditor": bool(user and user.is_authenticated and user.is_superuser),
    }
