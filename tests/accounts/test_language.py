"""Language per person: the profile's `language` wins over the browser once signed in,
and every mail to a person is in their language (DESIGN.md §2 People, sign-in and
language)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation

from accounts.models import User
from tests.support.web import client_for

pytestmark = pytest.mark.django_db
PROFILE = "/accounts/profile/"


def german(msgid: str, **values) -> str:
    with translation.override("de"):
        return translation.gettext(msgid) % values if values else translation.gettext(msgid)


def test_the_profile_saves_the_language_and_the_pages_follow_it(demo_org):
    max_ = client_for(demo_org["max"])
    page = max_.get(PROFILE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="language"' in page and 'lang="en"' in page
    response = max_.post(
        PROFILE, {"language": "de", "receives_digest": "on"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert User.objects.get(username="max").language == "de"
    # His browser still asks for English: his profile wins from now on.
    after = max_.get(PROFILE, HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert 'lang="de"' in after
    assert german("Your profile was saved.") in after
    inbox = max_.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="de"' in inbox and german("Inbox") in inbox
    # Someone without a language setting still gets what the browser asks for.
    emma = client_for(demo_org["emma"])
    assert 'lang="de"' in emma.get("/inbox/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'lang="en"' in emma.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_unknown_language_is_refused_at_the_field_and_nothing_is_saved(demo_org):
    response = client_for(demo_org["emma"]).post(PROFILE, {"language": "xx"})
    assert response.status_code == 400
    assert 'data-testid="error-language"' in response.content.decode()
    assert User.objects.get(username="emma").language == ""


def test_the_header_switch_is_the_profile_setting_when_signed_in(demo_org, client):
    emma = client_for(demo_org["emma"])
    response = emma.post("/i18n/setlang/", {"language": "de", "next": "/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert User.objects.get(username="emma").language == "de"
    # Signed out, it only sets the browser's cookie (no person to save it on).
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "de"
    assert client.get("/i18n/setlang/").status_code == 405


@pytest.mark.django_db(transaction=True)  # mails go after commit
def test_bank_change_mails_are_in_each_readers_language(demo_org):
    from tests.accounts.test_bank_details import NEW_IBAN, post, signed_in

    User.objects.filter(username="fiona").update(language="de")
    # emma's browser asks for German; she set nothing: her mail is in the company's language.
    assert post(signed_in(demo_org["emma"], "de"), iban=NEW_IBAN).status_code == 302
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["emma@example.com"] == "Your bank details were changed"
    assert subjects["fiona@example.com"] == german(
        "Bank details of %(name)s changed", name="Emma Engel"
    )
    assert subjects["felix@example.com"] == "Bank details of Emma Engel changed"
