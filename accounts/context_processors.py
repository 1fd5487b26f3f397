from django.conf import settings

from .oidc import sso_enabled


def sign_in(request):
    """How the login page offers sign-in: single sign-on and/or the local password."""
    return {"sso_enabled": sso_enabled(), "local_login": settings.LOCAL_LOGIN}
