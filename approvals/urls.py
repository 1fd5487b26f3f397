from django.urls import path

from .views import audit, codec, inbox, links, live, ops, policy, requests

urlpatterns = [
    path("", requests.home, name="home"),
    path("requests/", requests.request_list, name="requests"),
    path("requests/new/", requests.request_new, name="request-new"),
    path("requests/<int:pk>/", requests.request_detail, name="request-detail"),
    path("requests/<int:pk>/receipt/", requests.request_receipt, name="request-receipt"),
    path("requests/<int:pk>/withdraw/", requests.request_withdraw, name="request-withdraw"),
    path("requests/<int:pk>/resubmit/", requests.request_resubmit, name="request-resubmit"),
    path("requests/<int:pk>/decide/", inbox.decide, name="request-decide"),
    path("requests/<int:pk>/live/", live.request_live, name="request-live"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/count/", inbox.inbox_count, name="inbox-count"),
    path("inbox/bulk-approve/", inbox.bulk_approve, name="inbox-bulk-approve"),
    path("links/<str:token>/", links.decision_link, name="decision-link"),
    path("audit/", audit.audit_list, name="audit"),
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
    path("policy/", policy.policy_list, name="policy-list"),
    path("policy/draft/", policy.policy_draft, name="policy-draft"),
    path("policy/<int:number>/", policy.policy_detail, name="policy-detail"),
    path("policy/<int:number>/publish/", policy.policy_publish, name="policy-publish"),
    path("policy/<int:number>/discard/", policy.policy_discard, name="policy-discard"),
    path("policy/<int:number>/what-if/", policy.policy_what_if, name="policy-what-if"),
]
