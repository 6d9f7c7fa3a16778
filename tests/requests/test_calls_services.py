"""The call log's and unmatched requests' services (issue 14, part A): rules,
where a call counts, the audit, and every logging path counting a call once."""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from center.models import AuditEntry
from requests import services
from requests.models import CallLog, UnmatchedRequest
from tests.factories import (
    CommunityFactory,
    ResidentFactory,
    ServiceCategoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Kind = CallLog.Kind


def _messages(exc: ValidationError) -> dict:
    return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"kind": "chat"}, "kind", "Choose what kind of call this was."),
        ({"kind": "repeat"}, "order", "A new-order call or a repeat call names its order."),
        ({"kind": "order"}, "order", "A new-order call or a repeat call names its order."),
        ({"kind": "enquiry", "number": "12345"}, "number", "Enter a mobile number"),
        (
            {"kind": "enquiry", "duration_seconds": 4 * 3600 + 1},
            "duration_seconds",
            "A call lasts between 0 seconds and 4 hours.",
        ),
    ],
)
def test_call_record_refuses_with_a_readable_message(operator, kwargs, field, message):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.call_record(actor=operator, **kwargs)
    assert any(m.startswith(message) for m in _messages(exc.value)[field])
    assert not CallLog.objects.exists()


def test_call_record_keeps_four_hours_and_normalises_the_number(operator):
    call = services.call_record(
        actor=operator, kind=Kind.ENQUIRY, number="+86 138-1234-5678", duration_seconds=14400
    )
    assert call.number == "13812345678"
    assert call.duration_seconds == 14400
    assert call.operator == operator
    assert call.station_id is None and call.category_id is None  # nobody known: city-wide


def test_call_counts_at_the_orders_station_and_items_category(make_order, other_station, item):
    order = make_order(station=other_station)
    call = order.calls.get()
    assert call.kind == Kind.ORDER
    assert call.station_id == other_station.pk  # the order's, not the resident's community's
    assert call.category_id == item.category_id
    assert call.resident_id == order.resident_id
    assert call.number == ""  # the order recorded no caller number


def test_call_without_order_counts_at_the_residents_communitys_station(operator, resident, station):
    category = ServiceCategoryFactory()
    call = services.call_record(
        actor=operator, kind=Kind.ENQUIRY, resident=resident, category=category
    )
    assert call.station_id == station.pk  # the branch serving the resident's community
    assert call.category_id == category.pk


def test_call_of_a_resident_without_community_counts_city_wide(operator):
    resident = ResidentFactory(community=None)
    call = services.call_record(actor=operator, kind=Kind.COMPLAINT, resident=resident)
    assert call.station_id is None


def test_given_category_wins_over_the_orders(make_order, operator):
    order = make_order()
    other = ServiceCategoryFactory()
    call = services.call_record(actor=operator, kind=Kind.COMPLAINT, order=order, category=other)
    assert call.category_id == other.pk


def test_a_call_about_another_residents_order_is_refused(make_order, operator):
    order = make_order()
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.call_record(
            actor=operator, kind=Kind.REPEAT, order=order, resident=ResidentFactory()
        )
    assert _messages(exc.value)["order"] == ["This order is not the caller's."]


def test_call_record_is_audited_with_the_number_masked(operator):
    call = services.call_record(
        actor=operator, kind=Kind.ENQUIRY, number="13812345678", duration_seconds=65
    )
    entry = AuditEntry.objects.get(action="requests.call.recorded")
    assert entry.target_id == str(call.pk) and entry.actor == operator
    assert entry.data == {"kind": "enquiry", "number": "138****5678", "duration_seconds": 65}


# --- each path counts once ------------------------------------------------------------


def test_hotline_order_logs_its_call_once_even_when_the_form_is_posted_twice(make_order):
    key = uuid.uuid4()
    first = make_order(intake_key=key, caller_phone="13812345678")
    again = make_order(intake_key=key, caller_phone="13812345678")
    assert again.pk == first.pk and again.replayed
    assert list(CallLog.objects.values_list("kind", "order_id", "number")) == [
        ("order", first.pk, "13812345678")
    ]


@pytest.mark.parametrize("channel", ["walk_in", "web", "device", "visit"])
def test_orders_from_other_channels_log_no_call(make_order, channel):
    make_order(channel=channel)
    assert not CallLog.objects.exists()


def test_a_merged_repeat_call_is_logged_once_as_repeat(make_order, operator):
    order = make_order()
    services.order_merge(actor=operator, order=order, caller_phone="13812345678", note="又打来")
    assert list(CallLog.objects.order_by("pk").values_list("kind", "number", "note")) == [
        ("order", "", ""),
        ("repeat", "13812345678", "又打来"),
    ]


def test_a_merge_with_a_partial_number_keeps_the_call_without_it(make_order, operator):
    order = make_order()
    services.order_merge(actor=operator, order=order, caller_phone="5678")
    assert CallLog.objects.get(kind=Kind.REPEAT).number == ""


def test_a_device_calling_again_logs_no_call(make_order):
    order = make_order(channel="device")
    services.order_merge(actor=None, order=order, note="The device called again.")
    assert not CallLog.objects.exists()


def test_staff_urging_on_their_own_logs_no_call(make_order, operator):
    order = make_order()
    services.order_urge(actor=operator, order=order, note="超时")
    assert CallLog.objects.filter(kind=Kind.REPEAT).count() == 0


def test_a_repeat_call_that_urges_is_one_call_and_one_urge(make_order, operator):
    order = make_order()
    call = services.console_call_record(
        actor=operator,
        kind=Kind.REPEAT,
        number="13812345678",
        order=order,
        duration_seconds=40,
        note="催一下",
        urge=True,
    )
    order.refresh_from_db()
    assert order.urge_count == 1
    assert call.kind == Kind.REPEAT and call.order_id == order.pk
    assert CallLog.objects.filter(kind=Kind.REPEAT).count() == 1


def test_a_repeat_call_about_a_closed_order_is_logged_without_urging(make_order, operator):
    order = make_order()
    services.order_cancel(actor=operator, order=order, reason="不需要了")
    order.refresh_from_db()
    services.console_call_record(actor=operator, kind=Kind.REPEAT, order=order, urge=True)
    order.refresh_from_db()
    assert order.urge_count == 0
    assert CallLog.objects.filter(kind=Kind.REPEAT, order=order).count() == 1


def test_the_console_never_logs_a_new_order_call(operator):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.console_call_record(actor=operator, kind=Kind.ORDER)
    assert "start the order instead" in _messages(exc.value)["kind"][0]


def test_an_enquiry_with_no_matching_item_keeps_the_need(operator, resident, station):
    category = ServiceCategoryFactory()
    call = services.console_call_record(
        actor=operator,
        kind=Kind.ENQUIRY,
        resident=resident,
        category=category,
        unmatched_text="  代买药，  老人腿脚不便 ",
    )
    need = UnmatchedRequest.objects.get()
    assert need.call == call and need.source == "call"
    assert need.text == "代买药， 老人腿脚不便"
    assert (need.category, need.station, need.community) == (
        category,
        station,
        resident.community,
    )
    assert need.occurred_on == timezone.localdate() and need.mentions == 1
    assert AuditEntry.objects.filter(action="requests.unmatched.recorded").count() == 1


def test_an_unmatched_need_that_fails_rolls_the_call_back(operator):
    with pytest.raises(ValidationError):
        services.console_call_record(actor=operator, kind=Kind.ENQUIRY, unmatched_text="x" * 201)
    assert not CallLog.objects.exists() and not UnmatchedRequest.objects.exists()


# --- unmatched requests and community talks -------------------------------------------


def test_a_talk_needs_its_meeting_and_place(station_manager):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.unmatched_record(actor=station_manager, source="talk", text="助餐点")
    assert _messages(exc.value) == {"occasion": ["Name the meeting where it was raised."]}
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.unmatched_record(
            actor=station_manager, source="talk", text="助餐点", occasion="议事会"
        )
    assert _messages(exc.value) == {"community": ["Say where the talk was held."]}


def test_a_talk_counts_at_the_communitys_station(station_manager, community, station):
    row = services.unmatched_record(
        actor=station_manager,
        source="talk",
        text="希望有老年助餐点",
        community=community,
        occasion="社区议事会",
        mentions=9,
        occurred_on=datetime.date(2026, 11, 20),
    )
    assert (row.station, row.mentions, row.occurred_on, row.recorded_by) == (
        station,
        9,
        datetime.date(2026, 11, 20),
        station_manager,
    )


def test_a_station_manager_records_talks_only_at_their_stations(station_manager, other_station):
    community = CommunityFactory()
    other_station.communities.add(community)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.unmatched_record(
            actor=station_manager,
            source="talk",
            text="助餐点",
            community=community,
            occasion="议事会",
        )
    assert _messages(exc.value) == {"station": ["Choose one of your stations."]}
    center = UserFactory(role="center_manager")
    row = services.unmatched_record(
        actor=center, source="talk", text="助餐点", community=community, occasion="议事会"
    )
    assert row.station == other_station


def test_a_call_is_one_person_asking(operator):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.unmatched_record(actor=operator, source="call", text="代买药", mentions=3)
    assert _messages(exc.value) == {"mentions": ["A call is one person asking."]}
