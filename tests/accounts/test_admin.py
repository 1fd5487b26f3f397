"""The people admin: cycles refused on the form, deactivation instead of delete."""

from html.parser import HTMLParser

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


class FormFields(HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_data(response) -> dict[str, list[str]]:
    parser = FormFields()
    parser.feed(response.content.decode())
    parser.data.pop("language", None)  # the language switcher's form
    parser.data.pop("next", None)
    return parser.data


@pytest.fixture
def admin_client_demo(client, demo_org):
    client.force_login(demo_org["admin"])
    return client


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def test_admin_form_refuses_a_reports_to_cycle(admin_client_demo, demo_org):
    victor = demo_org["victor"]
    data = form_data(admin_client_demo.get(change_url(victor)))
    data["reports_to"] = [str(demo_org["emma"].pk)]
    response = admin_client_demo.post(change_url(victor), data)
    assert response.status_code == 200  # form shown again with the error
    assert "cycle" in response.content.decode()
    assert User.objects.get(pk=victor.pk).reports_to is None


def test_admin_form_saves_a_valid_manager_change(admin_client_demo, demo_org):
    emma = demo_org["emma"]
    data = form_data(admin_client_demo.get(change_url(emma)))
    data["reports_to"] = [str(demo_org["maria"].pk)]
    response = admin_client_demo.post(change_url(emma), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=emma.pk).reports_to == demo_org["maria"]


def test_change_page_shows_the_management_chain_and_direct_reports(admin_client_demo, demo_org):
    page = admin_client_demo.get(change_url(demo_org["max"])).content.decode()
    assert "Diana Dietrich → Victor Vogel" in page
    assert "emma" in page  # max's direct report


def test_admin_can_add_a_person_with_role_and_manager(admin_client_demo, demo_org):
    data = form_data(admin_client_demo.get("/admin/accounts/user/add/"))
    data.update(
        username=["nora"],
        password1=["a-long-password-42"],
        password2=["a-long-password-42"],
        role=["employee"],
        reports_to=[str(demo_org["max"].pk)],
    )
    response = admin_client_demo.post("/admin/accounts/user/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    nora = User.objects.get(username="nora")
    assert nora.reports_to == demo_org["max"]


def test_admin_cannot_delete_people(admin_client_demo, demo_org):
    response = admin_client_demo.get(f"/admin/accounts/user/{demo_org['emma'].pk}/delete/")
    assert response.status_code == 403
    assert User.objects.filter(username="emma").exists()


def test_deactivate_action_keeps_the_person(admin_client_demo, demo_org):
    response = admin_client_demo.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [demo_org["finn"].pk]},
    )
    assert response.status_code == 302
    finn = User.objects.get(username="finn")
    assert finn.is_active is False
    assert finn.reports_to == demo_org["maria"]


def test_non_staff_cannot_open_the_people_admin(client, demo_org):
    client.force_login(demo_org["max"])
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
