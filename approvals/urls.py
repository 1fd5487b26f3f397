from django.urls import path

from .views import actions, analytics, audit, codec, home, inbox, links, live, ops, requests

urlpatterns = [
    path("", home.home, name="home"),
    path("requests/", requests.request_list, name="requests"),
    path("requests/new/", requests.request_new, name="request-new"),
    path("requests/<int:pk>/", requests.request_detail, name="request-detail"),
    path("requests/<int:pk>/receipt/", requests.request_receipt, name="request-receipt"),
    path("requests/<int:pk>/withdraw/", requests.request_withdraw, name="request-withdraw"),
    path("requests/<int:pk>/resubmit/", requests.request_resubmit, name="request-resubmit"),
    path("requests/<int:pk>/decide/", inbox.decide, name="request-decide"),
    path("requests/<int:pk>/extend/", actions.request_extend, name="request-extend"),
    path("requests/<int:pk>/override/", actions.request_override, name="request-override"),
    path("requests/<int:pk>/live/", live.request_live, name="request-live"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/count/", inbox.inbox_count, name="inbox-count"),
    path("inbox/bulk-approve/", inbox.bulk_approve, name="inbox-bulk-approve"),
    path("links/<str:token>/", links.decision_link, name="decision-link"),
    path("audit/", audit.audit_list, name="audit"),
    path("audit/analytics/", analytics.analytics_page, name="analytics"),
    path("audit/analytics.csv", analytics.analytics_csv, name="analytics-csv"),
    path("audit/<int:pk>/", audit.audit_detail, name="audit-detail"),
    path("audit/<int:pk>/timeline.json", audit.audit_json, name="audit-json"),
    # Temporal's remote codec protocol (the UI and CLI append /encode and /decode).
    path("codec/encode", codec.codec_endpoint, {"operation": "encode"}, name="codec-encode"),
    path("codec/decode", codec.codec_endpoint, {"operation": "decode"}, name="codec-decode"),
    path("ops/", ops.ops_page, name="ops"),
    path("ops/requests/<int:pk>/start/", ops.ops_start, name="ops-start"),
    path("ops/requests/<int:pk>/reroute/", ops.ops_reroute, name="ops-reroute"),
    path("ops/mails/<int:pk>/resend/", ops.ops_resend, name="ops-resend"),
    path("ops/issues/<int:pk>/dismiss/", ops.ops_dismiss, name="ops-dismiss"),
]
