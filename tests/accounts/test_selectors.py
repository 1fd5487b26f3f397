"""Management-chain reads over the demo org: emma -> max -> diana -> victor."""

import pytest

from accounts.models import User
from accounts.selectors import admin_usernames, manager_chain

pytestmark = pytest.mark.django_db


def test_the_chain_climbs_direct_manager_then_theirs_then_the_vp(demo_org):
    assert manager_chain(user=demo_org["emma"], depth=3) == [
        demo_org["max"],
        demo_org["diana"],
        demo_org["victor"],
    ]


def test_above_the_top_of_the_tree_there_is_nobody(demo_org):
    assert manager_chain(user=demo_org["emma"], depth=4) == [
        demo_org["max"],
        demo_org["diana"],
        demo_org["victor"],
    ]
    assert manager_chain(user=demo_org["victor"], depth=3) == []


def test_chain_is_nearest_first_and_cut_at_depth(demo_org):
    names = [u.username for u in manager_chain(user=demo_org["emma"], depth=2)]
    assert names == ["max", "diana"]
    names = [u.username for u in manager_chain(user=demo_org["finn"], depth=10)]
    assert names == ["maria", "diana", "victor"]


def test_chain_stops_at_a_cycle_written_behind_validation(demo_org):
    # A cycle can only come from a raw write (clean() refuses it); reads must still end.
    User.objects.filter(pk=demo_org["victor"].pk).update(reports_to=demo_org["emma"])
    emma = User.objects.get(username="emma")
    names = [u.username for u in manager_chain(user=emma, depth=10)]
    assert names == ["max", "diana", "victor"]


def test_admin_usernames_lists_active_superusers_only(demo_org):
    assert admin_usernames() == ["admin"]
    User.objects.create_superuser("root2", password="x-long-password-1")
    User.objects.filter(username="admin").update(is_active=False)
    assert admin_usernames() == ["root2"]
