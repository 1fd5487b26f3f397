from django.contrib.auth import views as auth_views
from django.urls import path

from . import oidc, passkey_views, views
from .forms import LoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", oidc.logout, name="logout"),
    path("oidc/authenticate/", oidc.Authenticate.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.Callback.as_view(), name="oidc_authentication_callback"),
    path("passkeys/", passkey_views.passkeys_page, name="passkeys"),
    path("passkeys/options/", passkey_views.passkey_options, name="passkey-options"),
    path("passkeys/<int:pk>/delete/", passkey_views.passkey_delete, name="passkey-delete"),
    path("delegation/", views.delegation, name="delegation"),
    path("delegation/<int:pk>/end/", views.delegation_end, name="delegation-end"),
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.tokens, name="tokens"),
    path("bank/", views.bank_details, name="bank-details"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
