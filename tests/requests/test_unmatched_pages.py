"""The unmatched requests list, the community-talk form, the admin and the
calls demo (issue 14, part A)."""

import datetime
import random

import pytest
from django.urls import reverse

from requests import services
from requests.models import CallLog, UnmatchedRequest
from tests.factories import CommunityFactory, ServiceCategoryFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("requests:unmatched_list")
NEW = reverse("requests:unmatched_create")


def _talk(actor, community, text="希望有老年助餐点", **kw):
    return services.unmatched_record(
        actor=actor, source="talk", text=text, community=community, occasion="议事会", **kw
    )


def _rows(response) -> int:
    return response.content.count(b'data-testid="unmatched-row"')


def test_unmatched_list_is_scoped_by_station(
    login, station_manager, center_manager, operator, community, other_station
):
    theirs = CommunityFactory()
    other_station.communities.add(theirs)
    _talk(station_manager, community, "我站的建议")
    _talk(center_manager, theirs, "外站的建议")
    services.unmatched_record(actor=operator, source="call", text="代买药")  # city-wide only
    mine = login(station_manager).get(LIST)
    assert _rows(mine) == 1
    assert "外站的建议".encode() not in mine.content
    assert _rows(login(operator).get(LIST)) == 3


@pytest.mark.parametrize("who", ["outsider", "volunteer_user"])
def test_outsiders_and_volunteers_are_refused(request, login, who):
    client = login(request.getfixturevalue(who))
    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403


def test_unmatched_filters(login, center_manager, community, station, other_station):
    food = ServiceCategoryFactory()
    _talk(center_manager, community, category=food, occurred_on=datetime.date(2026, 11, 1))
    _talk(center_manager, community, occurred_on=datetime.date(2026, 11, 20))
    services.unmatched_record(
        actor=center_manager,
        source="call",
        text="宠物寄养",
        station=other_station,
        occurred_on=datetime.date(2026, 11, 21),
    )
    client = login(center_manager)

    def rows(query):
        return _rows(client.get(f"{LIST}?{query}"))

    assert rows(f"category={food.pk}") == 1
    assert rows("source=call") == 1
    assert rows("date_from=2026-11-20") == 2
    assert rows("date_to=2026-11-20") == 2
    assert rows(f"station={station.pk}") == 2
    assert rows(f"community={community.pk}") == 2
    # The weathervane's link: the group's words, whatever the wording's
    # spaces, punctuation and width (as the weathervane groups them).
    assert rows("q=宠物") == 1
    assert rows("q=老年助餐") == 2
    assert rows("q=没有的话") == 0
    services.unmatched_record(actor=center_manager, source="call", text="宠物 寄养。")
    services.unmatched_record(actor=center_manager, source="call", text="ＰＥＴ寄养" + "很" * 150)
    assert rows("q=宠物寄养") == 2
    assert rows("q=pet寄养" + "很" * 150) == 1  # a long wording, up to 200 characters


@pytest.mark.parametrize("n", [3, 30])
def test_unmatched_list_query_count_is_constant(
    login, station_manager, community, n, django_assert_num_queries
):
    for i in range(n):
        _talk(station_manager, community, f"建议{i}", category=ServiceCategoryFactory())
    client = login(station_manager)
    client.get(LIST)
    # session, user, the manager's stations (scope), the page (with category,
    # community and street, station, recorder: one join), the filter's
    # categories, stations and communities, the capped count
    with django_assert_num_queries(8):
        response = client.get(LIST)
    assert _rows(response) == n


def test_station_manager_enters_a_talk_for_their_station(login, station_manager, community):
    client = login(station_manager)
    assert client.get(NEW).status_code == 200
    response = client.post(
        NEW,
        {
            "text": "希望有老年助餐点",
            "community": community.pk,
            "occasion": "社区议事会",
            "mentions": 9,
            "occurred_on": "2026-11-20",
        },
    )
    assert response.status_code == 302
    row = UnmatchedRequest.objects.get()
    assert (row.source, row.mentions, row.station, row.recorded_by) == (
        "talk",
        9,
        community.serving_stations.get(),
        station_manager,
    )


def test_station_manager_cannot_enter_a_talk_elsewhere(login, station_manager, other_station):
    theirs = CommunityFactory()
    other_station.communities.add(theirs)
    response = login(station_manager).post(
        NEW,
        {
            "text": "助餐点",
            "station": other_station.pk,
            "occasion": "议事会",
            "mentions": 1,
            "occurred_on": "2026-11-20",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200  # the form again: not one of the choices
    assert not UnmatchedRequest.objects.exists()


def test_operators_list_but_do_not_enter_talks(login, operator):
    client = login(operator)
    assert client.get(LIST).status_code == 200
    assert client.get(NEW).status_code == 403


def test_admin_reads_calls_with_numbers_masked_in_the_list(login, center_manager, operator):
    services.call_record(actor=operator, kind="enquiry", number="13812345678")
    client = login(center_manager)
    changelist = client.get(reverse("admin:requests_calllog_changelist"))
    assert changelist.status_code == 200
    assert b"138****5678" in changelist.content and b"13812345678" not in changelist.content
    assert client.get(reverse("admin:requests_calllog_add")).status_code == 403
    assert client.get(reverse("admin:requests_unmatchedrequest_changelist")).status_code == 200


def test_calls_demo_seeds_once(community, item):
    from requests.demo import calls as calls_demo
    from tests.factories import ResidentFactory

    operator = UserFactory(username="operator", role="operator")
    residents = ResidentFactory.create_batch(5, community=community)
    for r in residents:
        services.order_create(actor=None, resident=r, item=item, channel="walk_in")
    calls_demo.seed(random.Random(3))
    assert CallLog.objects.filter(kind="enquiry").count() > 20
    assert CallLog.objects.filter(kind__in=["repeat", "complaint"]).exists()
    assert set(CallLog.objects.values_list("operator", flat=True)) == {operator.pk}
    texts = set(UnmatchedRequest.objects.values_list("text", flat=True))
    assert {"代买药，老人腿脚不便去不了药店", "宠物寄养，住院一周没人喂猫"} <= texts
    calls = CallLog.objects.count()
    calls_demo.seed(random.Random(3))
    assert CallLog.objects.count() == calls
