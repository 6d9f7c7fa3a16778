"""What a new user met on the registry pages (a zh-hans walkthrough): the
list's pickers scoped to the user and labelled with their street, the consent
gate with its way out, distinct filter labels, a person's name called 姓名,
overdue pairings marked, the last contact explained, the console's marks."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import Role
from requests import selectors
from requests.services import residents as registry
from tests.factories import (
    CommunityFactory,
    ConsentFactory,
    PairingFactory,
    ResidentFactory,
    StreetFactory,
    UserFactory,
    special_group,
)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _select(body: str, name: str) -> str:
    """The ``<select name=…>`` element of a page, whole."""
    match = re.search(rf'<select name="{name}".*?</select>', body, re.S)
    assert match, f"no <select name={name}>"
    return match.group(0)


@pytest.fixture
def namesakes(station, other_station):
    """Two 新民社区 in two streets, one served by each station."""
    own = CommunityFactory(name="新民社区", parent=StreetFactory(name="建设街道"))
    far = CommunityFactory(name="新民社区", parent=StreetFactory(name="新城街道"))
    station.communities.add(own)
    other_station.communities.add(far)
    return own, far


# --- 1. The list's pickers ---------------------------------------------------------------


def test_station_manager_is_offered_only_the_communities_their_stations_serve(
    client, station_manager, namesakes
):
    own, far = namesakes
    client.force_login(station_manager)
    body = client.get(reverse("requests:resident_list")).content.decode()
    communities = _select(body, "community")
    assert f'<option value="{own.pk}">建设街道 · 新民社区</option>' in communities
    assert f'value="{far.pk}"' not in communities and "新城街道" not in communities


def test_station_manager_is_offered_only_their_stations(
    client, station_manager, station, other_station
):
    client.force_login(station_manager)
    stations = _select(client.get(reverse("requests:resident_list")).content.decode(), "station")
    assert f'value="{station.pk}"' in stations
    assert f'value="{other_station.pk}"' not in stations


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.CENTER_MANAGER])
def test_city_wide_users_are_offered_every_community_with_its_street(client, role, namesakes):
    own, far = namesakes
    client.force_login(UserFactory(role=role))
    communities = _select(
        client.get(reverse("requests:resident_list")).content.decode(), "community"
    )
    assert "建设街道 · 新民社区" in communities and "新城街道 · 新民社区" in communities


def test_the_list_names_the_street_of_a_community(client, operator, namesakes):
    own, _far = namesakes
    ResidentFactory(community=own)
    client.force_login(operator)
    body = client.get(reverse("requests:resident_list")).content.decode()
    assert "建设街道 · 新民社区" in body.split('data-testid="resident-table"')[1]


def test_station_manager_list_query_count_is_constant(
    client, station_manager, community, django_assert_num_queries
):
    client.force_login(station_manager)
    url = reverse("requests:resident_list")
    client.get(url)

    def grow(n):
        for _i in range(n):
            r = ResidentFactory(community=community)
            registry.group_add(actor=None, resident=r, group=special_group("living-alone"))

    grow(2)
    # session, user, the manager's stations, count (capped), the page's rows
    # (+community and street, paired flag), their phones, their memberships
    # (+group), the filter's groups, its communities (those the stations
    # serve), its stations
    with django_assert_num_queries(10):
        client.get(url, {"special": "true"})
    grow(8)
    with django_assert_num_queries(10):
        client.get(url, {"special": "true"})


# --- 2. The consent gate -----------------------------------------------------------------


def test_sensitive_page_shows_up_front_what_no_consent_covers_with_the_link(
    client, station_manager, resident
):
    ConsentFactory(resident=resident, scope=["health"])
    client.force_login(station_manager)
    body = client.get(reverse("requests:resident_sensitive_edit", args=[resident.pk])).content
    body = body.decode()
    assert 'data-testid="consent-health" data-in-force="true"' in body
    assert 'data-testid="consent-id_number" data-in-force="false"' in body
    link = reverse("requests:resident_consent_record", args=[resident.pk])
    assert f'href="{link}" data-testid="consent-record-link"' in body
    assert f'href="{resident.get_absolute_url()}" data-testid="back-to-resident"' in body


def test_sensitive_page_offers_no_consent_link_when_every_scope_is_covered(
    client, station_manager, resident
):
    ConsentFactory(resident=resident)
    client.force_login(station_manager)
    body = client.get(reverse("requests:resident_sensitive_edit", args=[resident.pk]))
    body = body.content.decode()
    assert 'data-in-force="false"' not in body and "consent-record-link" not in body


def test_a_refused_save_links_to_the_consent_page_in_its_message(client, station_manager, resident):
    client.force_login(station_manager)
    response = client.post(
        reverse("requests:resident_sensitive_edit", args=[resident.pk]),
        {"health_notes": "高血压"},
        **EN,
    )
    assert response.status_code == 200
    body = response.content.decode()
    error = re.search(r'<div class="alert alert-block alert-danger">.*?</div>', body, re.S)
    assert error and "Record the resident&#x27;s separate consent" in error.group(0)
    link = reverse("requests:resident_consent_record", args=[resident.pk])
    assert f'<a href="{link}" class="alert-link" data-testid="consent-record-link">' in error.group(
        0
    )
    assert not hasattr(resident, "sensitive") or resident.sensitive is None


def test_a_refused_disability_membership_links_to_the_consent_page(
    client, station_manager, resident
):
    client.force_login(station_manager)
    body = client.post(
        reverse("requests:resident_group_add", args=[resident.pk]),
        {"group": special_group("disabled").pk, "disability_category": "vision"},
    ).content.decode()
    error = re.search(r'<div class="alert alert-block alert-danger">.*?</div>', body, re.S)
    assert error and "consent-record-link" in error.group(0)


@pytest.mark.parametrize(
    "name", ["resident_group_add", "resident_contact_add", "resident_consent_record"]
)
def test_registry_forms_lead_back_to_the_resident(client, station_manager, resident, name):
    client.force_login(station_manager)
    body = client.get(reverse(f"requests:{name}", args=[resident.pk])).content.decode()
    assert f'href="{resident.get_absolute_url()}" data-testid="back-to-resident"' in body


def test_the_consent_page_shows_what_is_in_force_without_linking_to_itself(
    client, station_manager, resident
):
    ConsentFactory(resident=resident, scope=["id_number"])
    client.force_login(station_manager)
    body = client.get(reverse("requests:resident_consent_record", args=[resident.pk]))
    body = body.content.decode()
    assert 'data-testid="consent-id_number" data-in-force="true"' in body
    assert 'data-testid="consent-health" data-in-force="false"' in body
    assert "consent-record-link" not in body


def test_another_stations_manager_still_gets_no_sensitive_page(client, other_station, resident):
    client.force_login(
        UserFactory(username="smb", role=Role.STATION_MANAGER, stations=[other_station])
    )
    url = reverse("requests:resident_sensitive_edit", args=[resident.pk])
    assert client.get(url).status_code == 404


def test_an_outsider_gets_no_registry_form(client, outsider, resident):
    client.force_login(outsider)
    url = reverse("requests:resident_consent_record", args=[resident.pk])
    assert client.get(url).status_code in (403, 404)


# --- 3. and 4. Labels --------------------------------------------------------------------


def test_the_two_group_filters_have_distinct_labels(client, center_manager):
    client.force_login(center_manager)
    body = client.get(reverse("requests:resident_list"), **EN).content.decode()
    assert '<label for="id_group"' in body
    group = re.search(r'<label for="id_group"[^>]*>\s*([^<]*?)\s*<', body).group(1)
    special = re.search(r'<label for="id_special"[^>]*>\s*([^<]*?)\s*<', body).group(1)
    assert group != special
    assert (group, special) == ("Member of group", "In a special group")


def test_a_persons_name_is_called_full_name(client, station_manager, resident):
    client.force_login(station_manager)
    table = client.get(reverse("requests:resident_list"), **EN).content.decode()
    assert "<th>Full name</th>" in table
    for name in ("resident_contact_add", "resident_edit"):
        body = client.get(reverse(f"requests:{name}", args=[resident.pk]), **EN).content.decode()
        label = re.search(r'<label\s+for="id_name"[^>]*>\s*([^<]*?)\s*<', body).group(1)
        assert label == "Full name", name


# --- 5. Overdue pairings -----------------------------------------------------------------


def test_resident_page_marks_an_overdue_pairing(client, operator, resident):
    today = timezone.localdate()
    PairingFactory(resident=resident, next_visit_due=today - datetime.timedelta(days=43))
    client.force_login(operator)
    body = client.get(reverse("requests:resident_detail", args=[resident.pk]), **EN)
    body = body.content.decode()
    assert 'data-testid="pairing-overdue">overdue 43 days</span>' in body


def test_a_pairing_due_today_or_ended_is_not_overdue(client, operator, resident):
    today = timezone.localdate()
    PairingFactory(resident=resident, next_visit_due=today)
    PairingFactory(
        resident=resident, next_visit_due=today - datetime.timedelta(days=9), ended_on=today
    )
    client.force_login(operator)
    body = client.get(reverse("requests:resident_detail", args=[resident.pk])).content.decode()
    assert "pairing-overdue" not in body


def test_overdue_days_cost_no_query(resident, django_assert_num_queries):
    from requests.selectors.residents import mark_overdue

    pairings = [PairingFactory(resident=resident)]  # due 16 days ago
    with django_assert_num_queries(0):
        assert mark_overdue(pairings)[0].days_overdue == 16


# --- 6. Last contact ---------------------------------------------------------------------


def test_last_contact_is_explained_for_residents_outside_special_groups(
    client, operator, community
):
    plain = ResidentFactory(community=community, name="普通居民")
    plain.last_contact_at = timezone.now()  # stale, from a membership since removed
    plain.save(update_fields=["last_contact_at"])
    special = ResidentFactory(community=community, name="独居居民")
    registry.group_add(actor=None, resident=special, group=special_group("living-alone"))
    client.force_login(operator)
    body = client.get(reverse("requests:resident_list"), **EN).content.decode()
    assert "(special groups only)" in body.split('data-testid="last-contact-header"')[1][:200]
    cells = dict(
        re.findall(
            r'<a href="/[^"]*">([^<]+)</a>.*?data-testid="last-contact">([^<]*)</td>', body, re.S
        )
    )
    assert cells["普通居民"] == ""  # not tracked: blank, as the header says
    assert cells["独居居民"] == "—"  # tracked, never contacted
    detail = client.get(reverse("requests:resident_detail", args=[plain.pk]), **EN).content
    assert "Kept for special-group residents only." in detail.decode()


# --- 7. The console ----------------------------------------------------------------------


def test_console_marks_special_and_free_right_after_the_name(client, operator, resident):
    ConsentFactory(resident=resident)
    registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    registry.group_add(actor=None, resident=resident, group=special_group("disabled"))
    resident.is_free = True
    resident.save(update_fields=["is_free"])
    client.force_login(operator)
    body = client.get(reverse("requests:console_lookup"), {"phone": "13812"}).content.decode()
    head = body.split(resident.name, 1)[1].split("btn", 1)[0]  # before the buttons
    assert 'data-testid="special-mark"' in head and "text-bg-danger" in head
    assert "独居老人" in head and "残疾人" not in head
    assert head.count("特殊群体") == 1  # the sensitive membership is the mark itself
    assert 'data-testid="free-mark">免费服务</span>' in head


def test_console_shows_no_free_mark_for_a_paying_resident(client, operator, resident):
    client.force_login(operator)
    body = client.get(reverse("requests:console_lookup"), {"phone": "13812"}).content.decode()
    assert resident.name in body and "free-mark" not in body


def test_console_lookup_query_count_is_unchanged(operator, resident, django_assert_num_queries):
    registry.group_add(actor=None, resident=resident, group=special_group("living-alone"))
    # ranked ids, residents, phones, memberships (+group), contacts, recent orders
    with django_assert_num_queries(6):
        selectors.console_lookup(user=operator, phone="13812")
