from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import LoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("delegation/", views.delegation, name="delegation"),
    path("delegation/<int:pk>/end/", views.delegation_end, name="delegation-end"),
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.tokens, name="tokens"),
    path("bank/", views.bank_details, name="bank-details"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
