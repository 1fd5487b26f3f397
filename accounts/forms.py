"""Forms of people data: out-of-office delegation, personal access tokens, the profile."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import bank
from .calendar_choices import subdivisions, time_zones
from .models import TokenScope, User

MAX_DELEGATION_DAYS = 366


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(
        queryset=None,
        label=_("Delegate"),
        error_messages={"invalid_choice": _("Choose an active colleague other than yourself.")},
    )
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = User.objects.filter(is_active=True).exclude(pk=user.pk)

    def clean_starts_on(self):
        starts_on = self.cleaned_data["starts_on"]
        if starts_on < timezone.localdate():
            raise forms.ValidationError(_("The start date must not be in the past."))
        return starts_on

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on:
            if ends_on < starts_on:
                self.add_error("ends_on", _("The end date must not be before the start date."))
            elif ends_on - starts_on > timedelta(days=MAX_DELEGATION_DAYS):
                self.add_error("ends_on", _("A delegation lasts at most one year."))
        return data


class LoginForm(AuthenticationForm):
    """Django's login form, with the username bounded before it reaches the
    backends: django-axes records failed attempts in a 255-character column,
    so an overlong name would otherwise fail in the database (a 500)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(150))

    def clean(self):
        if self.errors.get("username"):
            return self.cleaned_data  # never authenticate a name we refused
        return super().clean()


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, strip=True)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ],
        error_messages={"required": _("Choose at least one scope.")},
    )
    expires_on = forms.DateField(
        label=_("Expires on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is not None and expires_on <= timezone.localdate():
            raise forms.ValidationError(_("The expiry date must be in the future."))
        return expires_on

    def expires_at(self):
        """The end of the chosen day, local time (None: never expires)."""
        expires_on = self.cleaned_data.get("expires_on")
        if expires_on is None:
            return None
        start = datetime.combine(expires_on + timedelta(days=1), time.min)
        return timezone.make_aware(start)


class ProfileForm(forms.ModelForm):
    """What a person sets for themselves on /accounts/profile/ (their own row only)."""

    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=())
    holiday_subdivision = forms.ChoiceField(
        label=_("Public holidays of"), required=False, choices=()
    )

    class Meta:
        model = User
        fields = ["receives_digest", "time_zone", "holiday_subdivision"]
        labels = {"receives_digest": _("Send me the daily digest")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = _("The organisation's default")
        self.fields["time_zone"].choices = [("", default), *((z, z) for z in time_zones())]
        self.fields["holiday_subdivision"].choices = [("", default), *subdivisions()]


class BankDetailsForm(forms.Form):
    """The employee's own IBAN and BIC (payouts are transferred there)."""

    iban = forms.CharField(label=_("IBAN"), max_length=42)
    bic = forms.CharField(label=_("BIC"), max_length=14, required=False)

    def clean_iban(self) -> str:
        iban = bank.normalise(self.cleaned_data["iban"])
        if not bank.iban_valid(iban):
            raise forms.ValidationError(
                _("This is not a valid IBAN (country, length or check digits)."), code="iban"
            )
        return iban

    def clean_bic(self) -> str:
        bic = bank.normalise(self.cleaned_data.get("bic", ""))
        if bic and not bank.bic_valid(bic):
            raise forms.ValidationError(
                _("A BIC has 8 or 11 letters and digits, e.g. COBADEFFXXX."), code="bic"
            )
        return bic
