"""The closed loop of a work order, one service per transition."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from requests import selectors, services
from requests.models import FollowUp, OrderEvent, OrderOffer, ServiceRequest
from tests.factories import MerchantFactory, ResidentFactory
from tests.requests.conftest import near
from volunteers.models import Complaint, HoursEntry

pytestmark = pytest.mark.django_db
S = ServiceRequest.Status


def test_whole_lifecycle_records_every_step(make_order, operator, near_volunteer, station):
    order = make_order(caller_phone="138-1234-5678", description="电视没有图像")
    assert order.number == f"GD{timezone.localdate():%Y%m%d}{order.pk:07d}"
    assert (order.status, order.station, order.quoted_price, order.caller_phone) == (
        S.RECEIVED,
        station,
        Decimal("80"),
        "13812345678",
    )

    services.order_offer(actor=operator, order=order)
    order.refresh_from_db()
    assert order.status == S.DISPATCHED and order.offers.get().provider.volunteer == near_volunteer
    user = near_volunteer.user
    services.order_take(actor=user, order=order, provider=near_volunteer)
    services.order_on_the_way(actor=user, order=order, provider=near_volunteer)
    services.order_arrive(actor=user, order=order, provider=near_volunteer)
    services.order_complete(
        actor=user,
        order=order,
        provider=near_volunteer,
        notes="更换电源板，写下操作步骤",
        fee=Decimal("80"),
    )
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    assert order.response_seconds is not None and order.arrival_seconds is not None
    entry = HoursEntry.objects.get(volunteer=near_volunteer)
    assert (entry.source, entry.source_ref, entry.hours) == ("order", order.number, Decimal("0.25"))
    services.follow_up_record(
        actor=operator, order=order, satisfaction="satisfied", score=5, words="很满意"
    )
    order.refresh_from_db()
    assert order.status == S.ARCHIVED and order.followed_up_at and order.archived_at
    actions = list(OrderEvent.objects.filter(order=order).values_list("action", flat=True))
    assert actions == [
        f"requests.order.{v}"
        for v in (
            "received",
            "offered",
            "taken",
            "on_the_way",
            "arrived",
            "completed",
            "followed_up",
        )
    ]
    assert OrderOffer.objects.get().status == OrderOffer.Status.ACCEPTED


def test_response_and_arrival_times_are_measured(make_order, operator, near_volunteer):
    order = make_order()
    ServiceRequest.objects.filter(pk=order.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=4)
    )
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    ServiceRequest.objects.filter(pk=order.pk).update(
        taken_at=timezone.now() - datetime.timedelta(minutes=9)
    )
    services.order_arrive(actor=None, order=order, provider=near_volunteer)
    order.refresh_from_db()
    assert 240 <= order.response_seconds < 260
    assert 540 <= order.arrival_seconds < 560


def test_steps_out_of_order_are_refused_and_change_nothing(make_order, near_volunteer, operator):
    order = make_order()
    with pytest.raises(ValidationError):
        services.order_arrive(actor=None, order=order)
    with pytest.raises(ValidationError):
        services.follow_up_record(actor=operator, order=order, satisfaction="satisfied", score=5)
    order.refresh_from_db()
    assert (
        order.status == S.RECEIVED
        and not order.events.exclude(action="requests.order.received").exists()
    )


def test_price_waived_for_residents_served_free(make_order, community, operator, near_volunteer):
    poor = ResidentFactory(community=community, is_free=True)
    order = make_order(resident=poor)
    assert order.fee_waived and order.price_due == 0
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    with pytest.raises(ValidationError):
        services.order_complete(actor=None, order=order, notes="修好", fee=Decimal("10"))
    services.order_complete(actor=None, order=order, notes="修好", fee=Decimal("0"))


def test_fee_above_the_quote_needs_a_reason(make_order, operator, near_volunteer):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    with pytest.raises(ValidationError) as exc:
        services.order_complete(actor=None, order=order, notes="换零件", fee=Decimal("95"))
    assert "fee_reason" in exc.value.message_dict
    order.refresh_from_db()
    assert order.status == S.TAKEN and order.fee_charged is None
    services.order_complete(
        actor=None,
        order=order,
        notes="换零件",
        fee=Decimal("95"),
        fee_reason="居民同意更换电源板，另付材料费",
    )


def test_return_and_redispatch(make_order, operator, near_volunteer, station, item):
    other = near(station, item, 2)
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    with pytest.raises(ValidationError):
        services.order_return(actor=None, order=order, provider=near_volunteer, reason=" ")
    services.order_return(actor=None, order=order, provider=near_volunteer, reason="临时有急事")
    order.refresh_from_db()
    assert (order.status, order.volunteer, order.taken_at) == (S.RECEIVED, None, None)
    services.order_assign(actor=operator, order=order, provider=other)
    order.refresh_from_db()
    assert (
        order.volunteer == other
        and order.events.filter(action="requests.order.returned", note="临时有急事").exists()
    )


def test_someone_elses_order_cannot_be_advanced(
    make_order, operator, near_volunteer, station, item
):
    stranger = near(station, item, 3)
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    with pytest.raises(ValidationError):
        services.order_take(actor=None, order=order, provider=stranger)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    with pytest.raises(ValidationError):
        services.order_arrive(actor=None, order=order, provider=stranger)


def test_merge_a_repeat_call(make_order, resident, item, operator):
    order = make_order()
    assert selectors.find_mergeable(resident=resident, item=item) == order
    services.order_merge(actor=operator, order=order, caller_phone="13812345678", note="又打来催")
    order.refresh_from_db()
    assert order.repeat_calls == 1 and ServiceRequest.objects.count() == 1
    services.order_cancel(actor=operator, order=order, reason="居民自行修好")
    assert selectors.find_mergeable(resident=resident, item=item) is None


def test_unsatisfied_follow_up_reopens_and_complains(make_order, operator, near_volunteer):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    services.order_complete(actor=None, order=order, notes="修了", fee=Decimal("80"))
    with pytest.raises(ValidationError):
        services.follow_up_record(
            actor=operator, order=order, satisfaction="unsatisfied", score=1, complain=True
        )
    follow_up = services.follow_up_record(
        actor=operator,
        order=order,
        satisfaction="unsatisfied",
        score=1,
        words="第二天又坏了",
        reopen=True,
        complain=True,
    )
    order.refresh_from_db()
    assert (order.status, order.reopen_count, order.volunteer) == (S.RECEIVED, 1, None)
    complaint = Complaint.objects.get(pk=follow_up.complaint_id)
    assert (complaint.provider.volunteer, complaint.follow_up.order, complaint.status) == (
        near_volunteer,
        order,
        "pending",
    )
    assert FollowUp.objects.get().reopened


def test_satisfied_follow_up_cannot_reopen(make_order, operator, near_volunteer):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    services.order_complete(actor=None, order=order, notes="修了", fee=Decimal("80"))
    with pytest.raises(ValidationError):
        services.follow_up_record(
            actor=operator, order=order, satisfaction="satisfied", score=5, reopen=True
        )
    assert not FollowUp.objects.exists()


def test_merchant_order_steps_recorded_by_staff(make_order, operator, station, item):
    merchant = MerchantFactory(stations=[station])
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=merchant)
    services.order_take(actor=operator, order=order)
    services.order_arrive(actor=operator, order=order)
    services.order_complete(actor=operator, order=order, notes="疏通完毕", fee=Decimal("60"))
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.merchant == merchant
    assert not HoursEntry.objects.exists()  # hours are for volunteers


def test_urge_flags_the_order(make_order, operator):
    from requests.selectors import flag, overdue_q

    order = make_order(urgency="emergency")
    assert flag(order) is None
    services.order_urge(actor=operator, order=order, note="居民再次来电")
    order.refresh_from_db()
    assert flag(order) == "yellow" and order.urge_count == 1
    later = order.received_at + datetime.timedelta(minutes=31)
    assert flag(order, later) == "red"
    assert ServiceRequest.objects.filter(overdue_q("red", later)).count() == 1
    assert ServiceRequest.objects.filter(overdue_q("red")).count() == 0


def test_timeline_reads_in_chinese(client, operator, make_order):
    order = make_order()
    services.order_urge(actor=operator, order=order, note="再次来电")
    client.force_login(operator)
    body = client.get(order.get_absolute_url()).content.decode()
    assert "已受理" in body and "催办" in body and "requests.order." not in body


def test_follow_up_scores_set_the_volunteers_rating(make_order, operator, near_volunteer):
    for score in (5, 3):
        order = make_order(description=str(score))
        services.order_assign(actor=operator, order=order, provider=near_volunteer)
        services.order_take(actor=None, order=order, provider=near_volunteer)
        services.order_complete(actor=None, order=order, notes="修了", fee=Decimal("80"))
        services.follow_up_record(
            actor=operator, order=order, satisfaction="basically", score=score
        )
    near_volunteer.refresh_from_db()
    assert near_volunteer.rating == Decimal("4.00")
    # A reopened order keeps who did the work on its follow-up.
    assert FollowUp.objects.filter(provider__volunteer=near_volunteer).count() == 2
