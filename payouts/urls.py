from django.urls import path

from . import views

urlpatterns = [
    path("payouts/", views.batch_list, name="payout-batches"),
    path("payouts/<int:pk>/", views.batch_detail, name="payout-batch"),
    path("payouts/<int:pk>/sepa.xml", views.batch_file, name="payout-batch-file"),
    path("payouts/<int:pk>/close/", views.batch_close_view, name="payout-batch-close"),
    path("ops/payouts/<int:pk>/retry/", views.payout_retry_view, name="ops-payout-retry"),
    path(
        "payouts/bank-changes/<int:pk>/confirm/",
        views.bank_change_confirm,
        name="bank-change-confirm",
    ),
    path("ops/payouts/batches/<int:pk>/retry/", views.batch_retry_view, name="ops-batch-retry"),
]
