from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from approvals.api import api
from approvals.views import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("scim/v2/", include("accounts.scim.urls")),
    path("api/v1/", api.urls),
    path("", include("payouts.urls")),
    path("", include("approvals.urls")),
]
# Uploaded files (receipts) are never served under MEDIA_URL, not even in DEBUG: only the
# views that check who may see their request read them (approvals/views/receipts.py).
