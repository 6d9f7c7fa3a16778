"""The console's call panel and the call log page (issue 14, part A)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from requests import services
from requests.models import CallLog, ServiceRequest, UnmatchedRequest
from tests.factories import CommunityFactory, ResidentFactory, ServiceCategoryFactory

pytestmark = pytest.mark.django_db

PANEL = reverse("requests:call_panel")
LOG = reverse("requests:call_list")


def _post(client, **data):
    return client.post(PANEL, data, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")


# --- the panel --------------------------------------------------------------------------


def test_operator_records_an_enquiry_for_the_number_typed(login, operator, resident, station):
    client = login(operator)
    category = ServiceCategoryFactory()
    response = _post(
        client,
        kind="enquiry",
        phone="138 1234 5678",
        category=category.pk,
        duration="3:25",
        note="问上门时间",
    )
    assert response.status_code == 200
    call = CallLog.objects.get()
    assert (call.kind, call.resident, call.number, call.station, call.category) == (
        "enquiry",
        resident,
        "13812345678",
        station,
        category,
    )
    assert call.duration_seconds == 205 and call.operator == operator
    assert b'data-testid="call-logged"' in response.content
    assert b'data-testid="calls-today">1<' in response.content


def test_the_caller_chosen_for_an_earlier_number_is_not_the_next_callers(
    login, operator, resident, community
):
    """The panel keeps the resident chosen for the last call; when the next
    number typed is not theirs, the call is the new number's caller's."""
    next_caller = ResidentFactory(community=community, phone="13848991122")
    client = login(operator)
    _post(client, kind="enquiry", phone="13848991122", resident=resident.pk)
    assert CallLog.objects.get().resident == next_caller
    CallLog.objects.all().delete()
    _post(client, kind="enquiry", phone="13900000000", resident=resident.pk)  # nobody's
    call = CallLog.objects.get()
    assert (call.resident, call.number) == (None, "13900000000")


def test_the_panel_counts_only_my_calls_of_today(login, operator, center_manager):
    services.call_record(actor=operator, kind="enquiry")
    services.call_record(
        actor=operator, kind="enquiry", at=timezone.now() - datetime.timedelta(days=1)
    )
    services.call_record(actor=center_manager, kind="enquiry")
    response = login(operator).get(PANEL)
    assert b'data-testid="calls-today">1<' in response.content


def test_a_partial_number_attaches_nobody(login, operator, resident):
    _post(login(operator), kind="complaint", phone="5678")
    call = CallLog.objects.get()
    assert call.resident is None and call.number == ""


@pytest.mark.parametrize("who", ["outsider", "volunteer_user"])
def test_outsiders_and_volunteers_are_refused(request, login, who):
    client = login(request.getfixturevalue(who))
    assert client.get(PANEL).status_code == 403
    assert _post(client, kind="enquiry").status_code == 403
    assert client.get(LOG).status_code == 403
    assert not CallLog.objects.exists()


def test_a_station_manager_cannot_attach_another_stations_resident(
    login, station_manager, other_station
):
    community = CommunityFactory()
    other_station.communities.add(community)
    theirs = ResidentFactory(community=community, phone="13900001111")
    client = login(station_manager)
    assert _post(client, kind="enquiry", resident=theirs.pk).status_code == 404
    # Typed in full, their number matches nobody this manager may see.
    _post(client, kind="enquiry", phone="13900001111")
    assert CallLog.objects.get().resident is None


def test_a_station_managers_call_never_counts_at_another_station(
    login, station_manager, station, other_station, operator, item
):
    """A resident of B's community whose order went to A is A's to see; the
    complaint A's manager logs about them counts at A, with its unmatched
    need, never in B's call log, weathervane or report."""
    community = CommunityFactory()
    other_station.communities.add(community)
    resident = ResidentFactory(community=community, phone="13911112222")
    services.order_create(
        actor=operator, resident=resident, item=item, channel="hotline", station=station
    )
    response = _post(
        login(station_manager),
        kind="complaint",
        resident=resident.pk,
        note="A 站记录",
        category=ServiceCategoryFactory().pk,
        unmatched_text="代买药",
    )
    assert response.status_code == 200
    call = CallLog.objects.get(kind="complaint")
    assert call.station_id == station.pk
    assert UnmatchedRequest.objects.get().station_id == station.pk


def test_a_call_without_resident_by_a_station_manager_counts_at_their_station(
    station_manager, station
):
    call = services.call_record(actor=station_manager, kind="enquiry", number="13800001234")
    assert call.station_id == station.pk


def test_several_residents_on_one_number_the_panel_asks(login, operator, community):
    a = ResidentFactory(community=community, phone="13800002222")
    b = ResidentFactory(community=community, phone="13800002222")
    client = login(operator)
    response = _post(client, kind="enquiry", phone="13800002222")
    assert not CallLog.objects.exists()
    assert b"Several residents have this number" in response.content
    assert f'value="{a.pk}"'.encode() in response.content
    _post(client, kind="enquiry", phone="13800002222", resident=b.pk)
    assert CallLog.objects.get().resident == b


def test_a_repeat_call_asks_for_its_order_then_urges_it(login, operator, resident, make_order):
    order = make_order()
    client = login(operator)
    response = _post(client, kind="repeat", phone="13812345678", urge="on")
    assert CallLog.objects.filter(kind="repeat").count() == 0
    assert f'name="order" value="{order.pk}"'.encode() in response.content
    _post(client, kind="repeat", phone="13812345678", urge="on", order=order.pk, duration="0:40")
    order.refresh_from_db()
    assert order.urge_count == 1
    call = CallLog.objects.get(kind="repeat")
    assert (call.order, call.duration_seconds) == (order, 40)


def test_a_repeat_call_by_order_number_without_urging(login, operator, make_order):
    order = make_order()
    _post(login(operator), kind="repeat", order_number=order.number.lower())
    order.refresh_from_db()
    assert order.urge_count == 0
    assert CallLog.objects.get(kind="repeat").order == order


def test_another_stations_order_cannot_be_named(login, station_manager, other_station, item):
    community = CommunityFactory()
    other_station.communities.add(community)
    theirs = ResidentFactory(community=community)
    order = services.order_create(
        actor=None, resident=theirs, item=item, channel="walk_in", station=other_station
    )
    client = login(station_manager)
    assert _post(client, kind="complaint", order=order.pk).status_code == 404
    response = _post(client, kind="complaint", order_number=order.number)
    assert b"No order with this number." in response.content
    assert not CallLog.objects.exists()


def test_an_enquiry_no_item_matches_keeps_the_need(login, operator, resident, station):
    category = ServiceCategoryFactory()
    client = login(operator)
    response = _post(client, kind="enquiry", phone="13812345678", unmatched_text="宠物寄养")
    assert b"Choose the category the need belongs to." in response.content
    assert not CallLog.objects.exists()
    _post(
        client,
        kind="enquiry",
        phone="13812345678",
        unmatched_text="宠物寄养",
        category=category.pk,
    )
    need = UnmatchedRequest.objects.get()
    assert (need.text, need.category, need.station, need.call) == (
        "宠物寄养",
        category,
        station,
        CallLog.objects.get(),
    )


def test_a_duration_that_is_not_minutes_seconds_is_refused(login, operator):
    response = _post(login(operator), kind="enquiry", duration="3分钟")
    assert b"Type the duration as minutes:seconds" in response.content
    assert not CallLog.objects.exists()


def test_the_console_loads_the_panel(login, operator):
    response = login(operator).get(reverse("requests:console"))
    assert PANEL.encode() in response.content
    assert b"<script>" not in response.content.split(b"</footer>")[0]


# --- the call log -----------------------------------------------------------------------


def _calls(n: int, *, station, resident, operator, kind="enquiry", at=None):
    category = ServiceCategoryFactory()
    for i in range(n):
        call = services.call_record(
            actor=operator,
            kind=kind,
            number=f"138{i:08d}",
            resident=resident,
            category=category,
            duration_seconds=60 + i,
            at=at,
        )
        assert call.station == station


def test_station_manager_sees_only_their_stations_calls(
    login, station_manager, operator, resident, station, other_station
):
    community = CommunityFactory()
    other_station.communities.add(community)
    theirs = ResidentFactory(community=community, name="外站居民")
    _calls(2, station=station, resident=resident, operator=operator)
    _calls(3, station=other_station, resident=theirs, operator=operator)
    services.call_record(actor=operator, kind="enquiry")  # city-wide only
    mine = login(station_manager).get(LOG)
    assert mine.content.count(b'data-testid="call-row"') == 2
    assert "外站居民".encode() not in mine.content
    everyone = login(operator).get(LOG)
    assert everyone.content.count(b'data-testid="call-row"') == 6


def test_call_log_masks_numbers(login, operator, resident, station):
    _calls(1, station=station, resident=resident, operator=operator)
    response = login(operator).get(LOG)
    assert b"13800000000" not in response.content
    assert b"138****0000" in response.content


def test_call_log_filters(login, center_manager, operator, resident, station, other_station):
    yesterday = timezone.now() - datetime.timedelta(days=1)
    _calls(2, station=station, resident=resident, operator=operator, at=yesterday)
    _calls(1, station=station, resident=resident, operator=operator, kind="complaint")
    services.call_record(actor=center_manager, kind="enquiry")
    client = login(center_manager)

    def rows(query: str) -> int:
        return client.get(f"{LOG}?{query}").content.count(b'data-testid="call-row"')

    today = timezone.localdate()
    assert rows("kind=complaint") == 1
    assert rows(f"date_from={today}") == 2
    assert rows(f"date_to={today - datetime.timedelta(days=1)}") == 2
    assert rows(f"station={station.pk}") == 3
    assert rows(f"operator={center_manager.pk}") == 1
    assert rows(f"operator={operator.pk}&kind=enquiry") == 2


@pytest.mark.parametrize("n", [3, 30])
def test_call_log_query_count_is_constant(
    login, station_manager, operator, resident, station, make_order, n, django_assert_num_queries
):
    _calls(n, station=station, resident=resident, operator=operator)
    make_order()  # an order call, with its order number on the row
    client = login(station_manager)
    client.get(LOG)  # warm: the option lists are kept a minute (center.forms.FastSelect)
    # session, user, the manager's stations (scope), the page (calls and their
    # names, one join), the station filter's choices, the operator filter's,
    # the category filter's, the capped count
    with django_assert_num_queries(8):
        response = client.get(LOG)
    assert response.content.count(b'data-testid="call-row"') == n + 1


def test_call_log_pages_by_keyset(login, operator, resident, station):
    _calls(52, station=station, resident=resident, operator=operator)
    client = login(operator)
    first = client.get(LOG)
    assert first.content.count(b'data-testid="call-row"') == 50
    cursor = first.context["page_obj"].next_cursor
    second = client.get(LOG, {"after": cursor})
    assert second.content.count(b'data-testid="call-row"') == 2
    assert ServiceRequest.objects.count() == 0


def test_call_log_takes_the_end_of_time_as_no_bound(login, operator, resident, station):
    _calls(1, station=station, resident=resident, operator=operator)
    response = login(operator).get(f"{LOG}?date_to=9999-12-31&date_from=0001-01-01")
    assert response.status_code == 200
    assert response.content.count(b'data-testid="call-row"') == 1


def test_the_operator_filter_lists_no_other_stations_managers(
    login, station_manager, operator, other_station
):
    from tests.factories import UserFactory

    theirs = UserFactory(username="smb", role="station_manager", stations=[other_station])
    form = login(station_manager).get(LOG).context["filter"].form
    choices = {str(label) for _, label in form.fields["operator"].choices}
    assert str(operator) in choices and str(station_manager) in choices
    assert str(theirs) not in choices
