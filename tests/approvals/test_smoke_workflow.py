import pytest

from approvals import services
from tests.helpers import submit, wait_pending_level, wait_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_level_request_approved_by_manager_then_director(demo_org, worker):
    emma, max_, diana = demo_org["emma"], demo_org["max"], demo_org["diana"]
    request = submit(emma, "5000.00")
    state = wait_pending_level(request, 1)
    assert state.pending_approvers == ["max"]
    state = services.decision_record(request=request, actor=max_, action="approve")
    assert state.current_level == 2 and state.pending_approvers == ["diana"]
    services.decision_record(request=request, actor=diana, action="approve")
    wait_status(request, "approved")
