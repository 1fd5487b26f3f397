from django.urls import path

from . import views, views_audit, views_inbox

urlpatterns = [
    path("", views.home, name="home"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/receipt/", views.request_receipt, name="request-receipt"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request-withdraw"),
    path("requests/<int:pk>/resubmit/", views.request_resubmit, name="request-resubmit"),
    path("requests/<int:pk>/decide/", views_inbox.decide, name="request-decide"),
    path("requests/<int:pk>/live/", views_inbox.request_live, name="request-live"),
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/count/", views_inbox.inbox_count, name="inbox-count"),
    path("inbox/bulk-approve/", views_inbox.bulk_approve, name="inbox-bulk-approve"),
    path("audit/", views_audit.audit_list, name="audit"),
    path("audit/<int:pk>/", views_audit.audit_detail, name="audit-detail"),
    path("audit/<int:pk>/timeline.json", views_audit.audit_json, name="audit-json"),
]
