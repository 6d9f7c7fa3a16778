"""Issue 8: the ranking finds the nearest in the database, before any cap;
merchants and teams are offered and take orders like volunteers; return and
reopen are inverses; the order's rules are stated once."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from requests import dispatch, services
from requests.models import OrderOffer, ServiceRequest
from tests.factories import MerchantFactory, UserFactory, VolunteerFactory
from tests.requests.conftest import near
from volunteers import services as volunteer_services
from volunteers.availability import DAYS
from volunteers.models import HoursEntry, MerchantOffer, Provider, ServiceTeam

pytestmark = pytest.mark.django_db
S = ServiceRequest.Status


def _crowd(station, item, n, **kw):
    """``n`` volunteers 0.2–2 km away who can do the item."""
    volunteers = [near(station, item, 0.2 + (i % 10) * 0.2, **kw) for i in range(n)]
    return volunteers


def test_on_duty_volunteer_at_the_door_among_400_off_duty_peers_is_first(make_order, station, item):
    _crowd(station, item, 400, on_duty=False)
    at_the_door = near(station, item, 0.05, on_duty=True)
    candidates = dispatch.volunteer_candidates(make_order())
    assert [c.volunteer.pk for c in candidates] == [at_the_door.pk]
    assert candidates[0].minutes == 1


def test_never_offered_sanctioned_off_duty_busy_or_outside(
    make_order, station, item, operator, center_manager, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "PROVIDER_MAX_OPEN_ORDERS": 1}
    ok = near(station, item, 1)
    sanctioned = near(station, item, 0.5)
    complaint = volunteer_services.complaint_record(
        actor=None, provider=sanctioned, description="迟到"
    )
    volunteer_services.complaint_rule(
        actor=center_manager, complaint=complaint, valid=True, reason="属实"
    )
    near(station, item, 0.4, on_duty=False)  # off duty, no weekly hours
    busy = near(station, item, 0.3)
    services.order_assign(actor=operator, order=make_order(description="busy"), provider=busy)
    from tests.factories import StationFactory

    elsewhere = StationFactory()
    outside = VolunteerFactory(
        station=elsewhere,
        on_duty=True,
        latitude=Decimal("30.950000"),  # 22 km north, another station
        longitude=Decimal("120.760000"),
    )
    outside.service_items.add(item)
    order = make_order(description="new")
    assert [c.volunteer.pk for c in dispatch.volunteer_candidates(order)] == [ok.pk]
    services.order_offer(actor=None, order=order)
    offered = set(order.offers.values_list("provider__volunteer_id", flat=True))
    assert offered == {ok.pk}


def test_weekly_hours_are_rows_the_database_filters(make_order, station, item):
    now = timezone.localtime()
    v = near(station, item, 1, on_duty=False)
    v.weekly_availability = {DAYS[now.weekday()]: [["00:00", "23:59"]]}
    v.save()
    slot = v.provider.slots.get()
    assert (slot.weekday, slot.start_minute, slot.end_minute) == (now.weekday(), 0, 1439)
    assert [c.volunteer.pk for c in dispatch.volunteer_candidates(make_order())] == [v.pk]
    v.weekly_availability = {DAYS[(now.weekday() + 1) % 7]: [["00:00", "23:59"]]}
    v.save()
    assert dispatch.volunteer_candidates(make_order(description="again")) == []


def test_ranking_query_count_is_constant_as_volunteers_grow(make_order, station, item):
    order = make_order()
    _crowd(station, item, 5)
    with CaptureQueriesContext(connection) as few:
        first = dispatch.volunteer_candidates(order)
    _crowd(station, item, 60)
    with CaptureQueriesContext(connection) as many:
        second = dispatch.volunteer_candidates(order)
    assert len(few) == len(many) == 3  # the area's stations, the ranking, the ranked rows
    assert len(first) == 5 and len(second) == 50  # capped after ordering


def test_ties_are_broken_deterministically(make_order, station, item):
    twins = [near(station, item, 1) for _ in range(3)]
    order = make_order()
    ranked = [c.volunteer.pk for c in dispatch.volunteer_candidates(order)]
    assert ranked == sorted(v.pk for v in twins)  # same minutes, load, rating, idle: by number
    assert ranked == [c.volunteer.pk for c in dispatch.volunteer_candidates(order)]


def test_load_and_last_taken_are_kept_on_the_provider(make_order, station, item, operator):
    v = near(station, item, 1)
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=v)
    v.provider.refresh_from_db()
    assert v.provider.open_orders == 1 and v.provider.last_taken_at is None
    services.order_take(actor=None, order=order, provider=v)
    v.provider.refresh_from_db()
    assert v.provider.last_taken_at == ServiceRequest.objects.get(pk=order.pk).taken_at
    services.order_complete(actor=None, order=order, notes="修好", fee=Decimal("80"))
    v.provider.refresh_from_db()
    assert v.provider.open_orders == 0
    other = make_order(description="cancel me")
    services.order_assign(actor=operator, order=other, provider=v)
    services.order_cancel(actor=operator, order=other, reason="居民取消")
    v.provider.refresh_from_db()
    assert v.provider.open_orders == 0
    assert services.provider_load_recount() >= 1
    v.provider.refresh_from_db()
    assert v.provider.open_orders == 0


@pytest.fixture
def merchant(station, item):
    m = MerchantFactory(
        stations=[station],
        latitude=Decimal("30.760000"),
        longitude=Decimal("120.760000"),
        user=UserFactory(role="volunteer"),
    )
    MerchantOffer.objects.create(merchant=m, item=item, price=Decimal("60"))
    return m


def test_merchants_ranked_by_minutes_then_price(make_order, station, item, merchant):
    cheaper_far = MerchantFactory(
        stations=[station], latitude=Decimal("30.790000"), longitude=Decimal("120.760000")
    )
    MerchantOffer.objects.create(merchant=cheaper_far, item=item, price=Decimal("40"))
    same_place_cheaper = MerchantFactory(
        stations=[station], latitude=Decimal("30.760000"), longitude=Decimal("120.760000")
    )
    MerchantOffer.objects.create(merchant=same_place_cheaper, item=item, price=Decimal("50"))
    ranked = dispatch.merchant_candidates(make_order())
    assert [c.provider.merchant for c in ranked] == [same_place_cheaper, merchant, cheaper_far]
    assert [c.price for c in ranked] == [Decimal("50.00"), Decimal("60.00"), Decimal("40.00")]


def test_a_merchant_is_offered_and_takes_the_order_on_the_phone(
    client, make_order, station, item, merchant
):
    order = make_order()
    services.order_offer(actor=None, order=order)
    assert order.offers.filter(provider=merchant.provider).exists()
    client.force_login(merchant.user)
    page = client.get(reverse("requests:my_orders")).content.decode()
    assert order.item.name in page
    client.post(reverse("requests:my_take", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == S.TAKEN and order.merchant == merchant
    client.post(reverse("requests:my_step", args=[order.pk, "arrive"]))
    client.post(
        reverse("requests:my_step", args=[order.pk, "complete"]),
        {"notes": "已修好", "fee": "60"},
    )
    order.refresh_from_db()
    assert order.status == S.COMPLETED and not order.arrival_unreported


def test_a_team_is_offered_to_its_leader_who_picks_the_members_credited(
    client, make_order, station, item
):
    leader = VolunteerFactory(station=station, user=UserFactory(role="volunteer"))
    went, stayed = VolunteerFactory(station=station), VolunteerFactory(station=station)
    team = volunteer_services.team_create(
        actor=None,
        data={
            "name": "家电维修分队",
            "kind": ServiceTeam.Kind.SPECIALTY,
            "specialty": item.specialty,
            "station": station,
            "leader": leader,
        },
        members=[went, stayed],
    )
    order = make_order()
    services.order_offer(actor=None, order=order)
    assert order.offers.filter(provider=team.provider).exists()
    client.force_login(leader.user)
    client.post(reverse("requests:my_take", args=[order.pk]))
    order.refresh_from_db()
    assert order.team == team and order.status == S.TAKEN
    page = client.get(reverse("requests:my_order", args=[order.pk])).content.decode()
    assert went.name in page and stayed.name in page  # the leader picks who went
    client.post(
        reverse("requests:my_step", args=[order.pk, "complete"]),
        {"notes": "已修好", "fee": "80", "members": [leader.pk, went.pk]},
    )
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    credited = set(
        HoursEntry.objects.filter(source_ref=order.number).values_list("volunteer", flat=True)
    )
    assert credited == {leader.pk, went.pk}


def test_completing_without_arrival_records_it_flagged(make_order, near_volunteer, operator):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    services.order_complete(actor=None, order=order, notes="修好", fee=Decimal("80"))
    order.refresh_from_db()
    assert order.arrival_unreported and order.arrived_at == order.completed_at
    reported = make_order(description="reported")
    services.order_assign(actor=operator, order=reported, provider=near_volunteer)
    services.order_take(actor=None, order=reported, provider=near_volunteer)
    services.order_arrive(actor=None, order=reported, provider=near_volunteer)
    services.order_complete(actor=None, order=reported, notes="修好", fee=Decimal("80"))
    reported.refresh_from_db()
    assert not reported.arrival_unreported and reported.arrived_at < reported.completed_at


def test_re_offer_after_return_excludes_only_who_returned_it(make_order, station, item, settings):
    settings.LIANXIN = {**settings.LIANXIN, "OFFER_SIZE": 2}
    a, b = near(station, item, 1), near(station, item, 2)
    order = make_order()
    services.order_offer(actor=None, order=order)
    services.order_take(actor=None, order=order, provider=a)
    services.order_return(actor=None, order=order, reason="工具不够", provider=a)
    order.refresh_from_db()
    assert (order.status, order.offer_ring, order.dispatch_round) == (S.RECEIVED, 0, 1)
    assert a.provider.open_orders == 0 or a.provider.refresh_from_db() is None
    services.order_offer(actor=None, order=order)
    order.refresh_from_db()
    current = order.offers.filter(round=1)
    # b, offered and lost in round 0, is offered again; a, who returned it, is not.
    assert set(current.values_list("provider__volunteer_id", flat=True)) == {b.pk}
    assert order.offer_ring == 1
    with pytest.raises(ValidationError):
        services.order_assign(actor=None, order=order, provider=a)


def test_reopen_then_complete_again_credits_hours_once(
    make_order, near_volunteer, operator, settings
):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    services.order_take(actor=None, order=order, provider=near_volunteer)
    services.order_arrive(actor=None, order=order, provider=near_volunteer)
    services.order_complete(actor=None, order=order, notes="修好", fee=Decimal("80"))
    services.follow_up_record(
        actor=operator,
        order=order,
        satisfaction="unsatisfied",
        score=2,
        words="又坏了",
        reopen=True,
    )
    order.refresh_from_db()
    assert (order.status, order.provider, order.dispatch_round) == (S.RECEIVED, None, 1)
    assert order.fee_charged == Decimal("80")  # kept until the next completion
    services.order_offer(actor=None, order=order)  # the same volunteer may be offered again
    services.order_take(actor=None, order=order, provider=near_volunteer)
    services.order_complete(actor=None, order=order, notes="换了零件", fee=Decimal("0"))
    entries = HoursEntry.objects.filter(volunteer=near_volunteer, source_ref=order.number)
    assert entries.count() == 1
    services.follow_up_record(actor=operator, order=order, satisfaction="satisfied", score=5)
    order.refresh_from_db()
    assert order.status == S.ARCHIVED and order.archived_at is not None


def test_transitions_are_stated_once_and_checked_by_the_services(make_order):
    order = make_order()
    assert order.can_offer and order.can_assign and not order.can_take
    assert not order.can_complete and not order.can_follow_up
    for step, statuses in ServiceRequest.TRANSITIONS.items():
        assert set(statuses) <= set(S.values), step
    assert "followed_up" not in S.values and "closed" not in S.values
    with pytest.raises(ValidationError):
        services.order_arrive(actor=None, order=order)


def test_order_page_states_the_rule_and_the_target_from_settings(
    client, operator, make_order, station, item, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "DISPATCH_TARGET_MINUTES": 12}
    near(station, item, 1)
    order = make_order()
    client.force_login(operator)
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'data-testid="ranking-rule"' in page and "预计分钟数" in page
    services.order_assign(actor=operator, order=order, provider=near(station, item, 2))
    ServiceRequest.objects.filter(pk=order.pk).update(
        status=S.ARRIVED,
        taken_at=timezone.now() - datetime.timedelta(minutes=11),
        arrival_seconds=660,
    )
    page = client.get(order.get_absolute_url()).content.decode()
    assert "目标 12 分钟" in page and "text-success" in page


def test_offers_of_earlier_rounds_do_not_show_on_the_phone(client, make_order, station, item):
    a = near(station, item, 1, user=UserFactory(role="volunteer"))
    order = make_order()
    services.order_offer(actor=None, order=order)
    services.order_take(actor=None, order=order, provider=a)
    services.order_return(actor=None, order=order, reason="有事", provider=a)
    client.force_login(a.user)
    assert order.item.name not in client.get(reverse("requests:my_offers")).content.decode()
    assert OrderOffer.objects.filter(order=order, status=OrderOffer.Status.RETURNED).count() == 1
    assert Provider.objects.get(volunteer=a).open_orders == 0


def test_a_catalogue_items_new_specialty_changes_who_can_do_it(make_order, station, item):
    from tests.factories import SpecialtyFactory

    by_old = VolunteerFactory(
        station=station, on_duty=True, latitude=Decimal("30.751"), longitude=Decimal("120.76")
    )
    by_old.specialties.add(item.specialty)
    new_specialty = SpecialtyFactory()
    by_new = VolunteerFactory(
        station=station, on_duty=True, latitude=Decimal("30.752"), longitude=Decimal("120.76")
    )
    by_new.specialties.add(new_specialty)
    assert [c.volunteer for c in dispatch.volunteer_candidates(make_order())] == [by_old]
    item.specialty = new_specialty
    item.save()
    ranked = dispatch.volunteer_candidates(make_order(description="again"))
    assert [c.volunteer for c in ranked] == [by_new]


def test_the_order_page_lists_the_ranked_merchants_without_reading_them_again(
    client, operator, make_order, merchant, django_assert_num_queries
):
    """The assign form's merchant and team pickers are the rows the page
    ranked: no second read (on PostgreSQL it was a server-side cursor each)."""
    order = make_order()
    client.force_login(operator)
    # session, user, order (+joins), events, offers, phones, contacts, area
    # stations, volunteer ranking (+ranked rows: none to read), merchants, teams
    with django_assert_num_queries(11):
        page = client.get(reverse("requests:order_detail", args=[order.pk]))
    assert [c.provider for c in page.context["merchant_candidates"]] == [merchant.provider]
    assert f'<option value="{merchant.provider.pk}">' in page.content.decode()
