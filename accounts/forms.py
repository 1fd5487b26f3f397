"""Forms of people data: out-of-office delegation, personal access tokens, the profile."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from . import bank, services
from . import bank_stepup as stepup
from .calendar_choices import subdivisions, time_zones
from .models import TokenScope, User
from .selectors import delegate_candidates

MAX_DELEGATION_DAYS = 366


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(
        queryset=None,
        label=_("Delegate"),
        help_text=_(
            "Someone at your level or above in your reporting line, or an administrator: "
            "never someone who reports to you."
        ),
        error_messages={"invalid_choice": _("Choose an active colleague other than yourself.")},
    )
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people who may act for this person (accounts/selectors.py).
        self.fields["delegate"].queryset = delegate_candidates(user=user)

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
        fields = ["language", "receives_digest", "time_zone", "holiday_subdivision"]
        labels = {"receives_digest": _("Send me the daily digest"), "language": _("Language")}
        help_texts = {
            "language": _("Of your pages once you are signed in and of every mail to you.")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = _("The organisation's default")
        self.fields["time_zone"].choices = [("", default), *((z, z) for z in time_zones())]
        self.fields["holiday_subdivision"].choices = [("", default), *subdivisions()]
        self.fields["language"].choices = [
            ("", _("As my browser says")),
            *((code, get_language_info(code)["name_local"]) for code, _n in settings.LANGUAGES),
        ]


class BankDetailsForm(forms.Form):
    """The signed-in person's own IBAN and BIC (payouts are transferred there), checked as
    pain.001.001.03 needs them, plus the step-up field (`password` today)."""

    iban = forms.CharField(label=_("IBAN"), max_length=42)
    bic = forms.CharField(label=_("BIC"), max_length=14, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.step_up = stepup.method_for(user)
        # Someone with a passkey confirms with it (accounts/stepup.py's prompt, after the
        # form is valid): no password field then.
        self.by_passkey = user.passkeys.exists()
        if not self.by_passkey:
            self.fields[self.step_up.name] = self.step_up.field()

    def clean_iban(self) -> str:
        iban = bank.normalise(self.cleaned_data["iban"])
        problem = bank.iban_problem(iban)
        if problem is not None:
            raise forms.ValidationError(IBAN_WORDS[problem], code=problem)
        refusal = services.bank_iban_refusal(user=self.user, iban=iban)
        if refusal is not None:
            raise forms.ValidationError(REFUSAL_WORDS[refusal], code=refusal)
        return iban

    def clean_bic(self) -> str:
        bic = bank.normalise(self.cleaned_data.get("bic", ""))
        if bic and not bank.bic_valid(bic):
            raise forms.ValidationError(
                _(
                    "This BIC is not valid: 8 or 11 letters and digits - bank (4 letters), "
                    "country (2 letters), place (2; the first neither 0 nor 1, the second "
                    "not O) and an optional branch (3), e.g. COBADEFFXXX."
                ),
                code=bank.Problem.BIC_FORMAT,
            )
        return bic

    @property
    def step_up_value(self) -> str:
        return self.cleaned_data.get(self.step_up.name, "")


IBAN_WORDS = {
    bank.Problem.IBAN_FORMAT: _(
        "This is not an IBAN: two letters, two check digits, then up to 30 letters and digits."
    ),
    bank.Problem.IBAN_COUNTRY: _("Payouts reach accounts in SEPA countries only."),
    bank.Problem.IBAN_LENGTH: _("An IBAN of this country has a different length."),
    bank.Problem.IBAN_CHECKSUM: _("The check digits do not match: please check for a typo."),
}
REFUSAL_WORDS = {
    services.BankRefusal.COMPANY: _(
        "This is the company's own account: expenses cannot be paid back to it."
    ),
    services.BankRefusal.TAKEN: _(
        "This IBAN is on another person's bank details. Enter an account in your own name."
    ),
}
