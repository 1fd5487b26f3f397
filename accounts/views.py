"""Out-of-office delegation (set a delegate for a date range, end it early),
personal access tokens for the JSON API, one's own profile (mail preferences) and
bank details."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import i18n as i18n_views
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from . import stepup as identity_stepup
from .client_ip import client_ip
from .forms import REFUSAL_WORDS, BankDetailsForm, DelegationForm, ProfileForm, TokenForm
from .language import language_of
from .models import AccessToken, Delegation
from .selectors import bank_change_pending, bank_history


@login_required
@require_http_methods(["GET", "POST"])
def delegation(request):
    form = DelegationForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_create(
                user=request.user,
                delegate=form.cleaned_data["delegate"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your delegation was saved."))
            return redirect("delegation")
    today = timezone.localdate()
    context = {
        "form": form,
        "today": today,
        "given": Delegation.objects.filter(user=request.user, ends_on__gte=today).select_related(
            "delegate"
        ),
        "received": Delegation.objects.active()
        .filter(delegate=request.user, user__is_active=True)
        .select_related("user"),
    }
    return render(request, "accounts/delegation.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def delegation_end(request, pk: int):
    # Only one's own delegations: someone else's id is a 404, like a missing one.
    item = get_object_or_404(Delegation, pk=pk, user=request.user)
    services.delegation_end(delegation=item)
    messages.success(request, _("The delegation has ended."))
    return redirect("delegation")


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """Personal access tokens: create (the secret is shown once, on this answer), list, revoke.

    Admins also see everyone's usable tokens, to revoke them."""
    form = TokenForm(request.POST if request.method == "POST" else None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        created, secret = services.token_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
        )
        form = TokenForm()
    context = {
        "form": form,
        "secret": secret,
        "tokens": AccessToken.objects.filter(owner=request.user),
        "others": AccessToken.objects.usable().exclude(owner=request.user).select_related("owner")
        if request.user.is_superuser
        else [],
    }
    response = render(request, "accounts/tokens.html", context, status=400 if form.errors else 200)
    if secret:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    # One's own tokens; an admin may revoke anyone's. Others get a 404, like a missing one.
    owned = AccessToken.objects.all() if request.user.is_superuser else request.user.access_tokens
    item = get_object_or_404(owned, pk=pk)
    services.token_revoke(token=item)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": item.name})
    return redirect("tokens")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in person's own profile: there is no id in the URL, so no one else's."""
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = services.profile_update(user=request.user, **form.cleaned_data)
        with translation.override(language_of(user) if user.language else get_language()):
            messages.success(request, _("Your profile was saved."))
        return redirect("profile")
    return render(
        request, "accounts/profile.html", {"form": form}, status=400 if form.errors else 200
    )


@require_POST
def set_language(request):
    """The header's language switch: Django's (a cookie for the browser); signed in, it
    is also the person's profile setting, which wins from then on."""
    response = i18n_views.set_language(request)
    code = request.POST.get("language", "")
    if request.user.is_authenticated and code in dict(settings.LANGUAGES):
        services.language_set(user=request.user, language=code)
    return response


BANK_WORDS = {
    "step_up_wrong": _lazy("The password is not correct; nothing was changed."),
    "step_up_locked": _lazy(
        "Too many wrong passwords: bank details cannot be changed for 15 minutes."
    ),
}


BANK_PURPOSE = "bank-details"  # the passkey challenge is bound to this change


@login_required
@require_http_methods(["GET", "POST"])
def bank_details(request):
    """Only one's own details: there is no user parameter to forge. A change asks for the
    step-up (the password) again; nothing changes until it is given."""
    user = request.user
    initial = {"iban": user.iban, "bic": user.bic}
    data = request.POST if request.method == "POST" else None
    form = BankDetailsForm(data, initial=initial, user=user)
    if request.method == "POST" and form.is_valid():
        if form.by_passkey:
            # A passkey owner confirms with it; nothing changes until the assertion holds.
            prompt = identity_stepup.check(request, purpose=BANK_PURPOSE)
            if prompt is not None:
                carry = {"iban": form.cleaned_data["iban"], "bic": form.cleaned_data["bic"]}
                return identity_stepup.render_prompt(
                    request, prompt, action=reverse("bank-details"), carry=carry
                )
        try:
            result = services.bank_details_change(
                user=user,
                iban=form.cleaned_data["iban"],
                bic=form.cleaned_data["bic"],
                step_up=form.step_up_value,
                ip=client_ip(request),
                passkey_confirmed=form.by_passkey,
            )
        except services.BankChangeError as exc:
            field = form.step_up.name if exc.code.startswith("step_up") else "iban"
            words = BANK_WORDS.get(exc.code) or REFUSAL_WORDS.get(exc.code, exc.code)
            form.add_error(field, words)
        else:
            if not result.changed:
                messages.info(request, _("Your bank details are unchanged."))
            elif result.entry.needs_confirmation:
                messages.success(
                    request,
                    ngettext(
                        "Your bank details were saved. %(count)d payment waits until the "
                        "finance team has confirmed the change.",
                        "Your bank details were saved. %(count)d payments wait until the "
                        "finance team has confirmed the change.",
                        result.held,
                    )
                    % {"count": result.held},
                )
            else:
                messages.success(request, _("Your bank details were saved."))
            return redirect("bank-details")
    return render(
        request,
        "accounts/bank.html",
        {
            "form": form,
            "cost_centre": user.cost_centre,
            "pending": bank_change_pending(user=user),
            "history": bank_history(user=user, limit=10),
        },
        status=400 if form.errors else 200,
    )
