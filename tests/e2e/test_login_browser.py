import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_emma_logs_in_and_sees_her_name_and_role(live_app, new_page):
    page = new_page()
    login(page, live_app, "emma")
    assert page.text_content("[data-testid=user-name]").strip() == "Emma Engel"
    assert page.text_content("[data-testid=user-role]").strip() == "Employee"
