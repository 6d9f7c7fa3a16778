"""center.registry: every app's menu entries, home cards and demo part,
without center importing the app."""

import random

import pytest
from django.urls import reverse
from django.utils import translation

from center import registry
from center.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# The entries center, volunteers and requests register; another app's entries
# may sit among them (each test checks these keep their order and audience).
BUILT_IN = {
    "站点",
    "接线台",
    "工单",
    "回访",
    "服务力量",
    "服务目录",
    "我的工单",
    "我的",
    "后台管理",
}
BUILT_IN_CARDS = {
    "requests/_home_hotline.html",
    "requests/_home_my_orders.html",
    "center/_home_stations.html",
    "center/_home_catalogue.html",
}


def menu(user, *, only_built_in=True):
    with translation.override("zh-hans"):
        return [
            (str(e.label), [str(c.label) for c in e.children])
            for e in registry.nav_for(user)
            if not only_built_in or str(e.label) in BUILT_IN
        ]


def cards(user):
    return [c for c in registry.home_cards_for(user) if c in BUILT_IN_CARDS]


def test_the_menu_follows_the_role(operator, station_manager, center_manager, volunteer_user):
    providers = ["党员志愿者", "加盟商户", "服务队", "岗位", "投诉"]
    assert menu(operator) == [
        ("站点", []),
        ("接线台", []),
        ("工单", []),
        ("回访", []),
        ("服务力量", providers),
        ("服务目录", []),
    ]
    assert ("服务力量", [*providers, "待核实时长"]) in menu(station_manager)
    cm = dict(menu(center_manager))
    assert cm["服务力量"] == [*providers, "待核实时长", "单位"] and "后台管理" in cm
    assert menu(volunteer_user) == [("我的工单", []), ("我的", []), ("服务目录", [])]
    merchant = UserFactory(username="shop", role=Role.MERCHANT)
    assert menu(merchant) == [("我的工单", [])]
    # A card leads only where its reader may go: the catalogue is not a merchant's.
    assert cards(merchant) == ["requests/_home_my_orders.html"]


def test_a_user_without_role_gets_no_menu_and_no_card(outsider):
    assert menu(outsider, only_built_in=False) == []
    assert cards(outsider) == []


def test_the_page_renders_the_registered_menu(client, station_manager):
    client.force_login(station_manager)
    body = client.get(reverse("center:home")).content.decode()
    assert f'href="{reverse("volunteers:hours_pending")}"' in body
    assert f'href="{reverse("volunteers:organization_list")}"' not in body  # center managers only
    assert f'href="{reverse("requests:my_orders")}"' not in body


def test_home_cards_follow_the_role(operator, volunteer_user):
    assert cards(operator) == [
        "requests/_home_hotline.html",
        "center/_home_stations.html",
        "center/_home_catalogue.html",
    ]
    assert cards(volunteer_user) == [
        "requests/_home_my_orders.html",
        "center/_home_catalogue.html",
    ]


def test_demo_parts_run_after_what_they_depend_on():
    order = [p.app for p in registry.demo_parts()]
    assert order[0] == "center"
    assert order.index("volunteers") < order.index("requests")
    for part in registry.demo_parts():
        assert all(order.index(dep) < order.index(part.app) for dep in part.after), part


@pytest.fixture
def new_app(monkeypatch):
    """What a new app's AppConfig.ready() would register, removed afterwards."""
    monkeypatch.setattr(registry, "_demo", dict(registry._demo))
    monkeypatch.setattr(registry, "_nav", list(registry._nav))
    monkeypatch.setattr(registry, "_cards", list(registry._cards))
    seeded = []
    registry.register_demo("events", lambda rng: seeded.append(rng.random()), after=["volunteers"])
    registry.register_nav(
        registry.NavEntry("Service days", "center:catalogue", registry.everyone, order=45)
    )
    registry.register_home_card(registry.HomeCard("center/_home_catalogue.html", order=1))
    return seeded


def test_a_new_app_plugs_in_without_touching_center(new_app, operator):
    order = [p.app for p in registry.demo_parts()]
    assert order.index("events") > order.index("volunteers")
    assert ("Service days", []) in menu(operator, only_built_in=False)
    assert registry.home_cards_for(operator)[0] == "center/_home_catalogue.html"


def test_a_part_depending_on_a_missing_app_is_refused(monkeypatch):
    monkeypatch.setattr(registry, "_demo", dict(registry._demo))
    registry.register_demo("wishes", lambda rng: None, after=["nowhere"])
    with pytest.raises(Exception, match="nowhere"):
        registry.demo_parts()


def test_each_app_gets_its_own_deterministic_generator(new_app, settings):
    # seed_demo's rule: one generator per app, seeded by its name.
    from center.management.commands.seed_demo import SEED

    part = next(p for p in registry.demo_parts() if p.app == "events")
    part.seed(random.Random(f"{SEED}:events"))
    part.seed(random.Random(f"{SEED}:events"))
    assert new_app[0] == new_app[1]


@pytest.mark.parametrize("role", ["operator", "station_manager", "center_manager", "volunteer"])
def test_every_menu_entry_and_card_button_opens_for_whoever_sees_it(client, role, request):
    """A menu entry or a home card never leads a user to a 403."""
    import re

    from tests.factories import MerchantFactory, VolunteerFactory

    user = request.getfixturevalue("volunteer_user" if role == "volunteer" else role)
    if role == "volunteer":
        VolunteerFactory(user=user)
    merchant = UserFactory(username="shop2", role=Role.MERCHANT)
    MerchantFactory(user=merchant)
    for who in (user, merchant):
        client.force_login(who)
        page = client.get(reverse("center:home")).content.decode()
        links = set(re.findall(r'href="(/[^"#]*)"', page)) - {"/", "/static/"}
        links = {u for u in links if not u.startswith(("/static/", "/admin/", "/i18n/"))}
        assert links, who
        for url in sorted(links):
            assert client.get(url).status_code == 200, (who.role, url)


def test_a_role_change_records_the_stations_the_user_keeps(center_manager, station):
    from center import services
    from center.models import AuditEntry

    clerk = UserFactory(username="clerk2", role=Role.STATION_MANAGER, stations=[station])
    services.user_set_role(actor=center_manager, user=clerk, role=Role.OPERATOR, stations=[station])
    assert not clerk.stations.exists()
    assert AuditEntry.objects.get(action="center.user.role_set").data == {
        "role": "operator",
        "stations": [],
    }
