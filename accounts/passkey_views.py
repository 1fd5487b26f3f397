"""/accounts/passkeys/: one's own passkeys (list, add, remove).

Adding one needs a fresh step-up (a sign-in or confirmation within
STEP_UP_FRESH_SECONDS), so a borrowed session cannot plant its own passkey and
then pass every later step-up with it. Only one's own passkeys are listed or
removed: someone else's id is a 404, like a missing one.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import identity, passkeys, stepup
from .models import IdentityEventKind, Passkey

PURPOSE = "passkey-add"


class PasskeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, strip=True)
    credential = forms.CharField(widget=forms.HiddenInput, max_length=20_000)


@login_required
@require_http_methods(["GET", "POST"])
def passkeys_page(request: HttpRequest) -> HttpResponse:
    form = PasskeyForm(request.POST if "credential" in request.POST else None)
    prompt = None
    status = 200
    if request.method == "POST" and "credential" not in request.POST:
        prompt = stepup.check(request, purpose=PURPOSE)
        if prompt is None:
            return redirect("passkeys")
        status = 403 if prompt.error else 400
    elif request.method == "POST":
        if not stepup.is_fresh(request):
            form.add_error(None, _("Please confirm it is you first."))
        elif form.is_valid():
            try:
                passkey = passkeys.register(
                    request,
                    request.user,
                    credential=form.cleaned_data["credential"],
                    name=form.cleaned_data["name"],
                )
            except passkeys.PasskeyError:
                form.add_error(None, _("The passkey could not be registered. Please try again."))
            else:
                identity.record(
                    IdentityEventKind.PASSKEY_ADDED,
                    subject=request.user,
                    actor=request.user.username,
                    name=passkey.name,
                )
                messages.success(
                    request, _("The passkey “%(name)s” was added.") % {"name": passkey.name}
                )
                return redirect("passkeys")
        status = 400
    if prompt is None and not stepup.is_fresh(request):
        prompt = stepup.prompt(request, purpose=PURPOSE)
    context = {
        "form": form,
        "prompt": prompt,
        "carry": {},
        "action": reverse("passkeys"),
        "passkeys": Passkey.objects.filter(owner=request.user),
    }
    return render(request, "accounts/passkeys.html", context, status=status)


@login_required
@require_POST
def passkey_options(request: HttpRequest) -> JsonResponse:
    """The options for `navigator.credentials.create()` (JSON), after a fresh step-up."""
    if not stepup.is_fresh(request):
        return JsonResponse({"message": _("Please confirm it is you first.")}, status=403)
    options = passkeys.registration_options(request, request.user)
    return JsonResponse({"options": options})


@login_required
@require_POST
def passkey_delete(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Passkey, pk=pk, owner=request.user)
    item.delete()
    identity.record(
        IdentityEventKind.PASSKEY_REMOVED,
        subject=request.user,
        actor=request.user.username,
        name=item.name,
    )
    messages.success(request, _("The passkey “%(name)s” was removed.") % {"name": item.name})
    return redirect("passkeys")
