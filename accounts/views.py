"""Out-of-office delegation: set a delegate for a date range, end it early."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .forms import DelegationForm
from .models import Delegation


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
