"""专人管: a paired resident's order is offered to the paired member first,
then to the normal ranking."""

import pytest
from django.urls import reverse

from requests import dispatch, services
from requests.models import OrderOffer
from requests.services import care
from requests.tasks import widen_offer
from tests.factories import ResidentGroupFactory, UserFactory, VolunteerFactory
from tests.requests.conftest import near
from volunteers import services as volunteer_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def paired(resident, station):
    """A member paired with the resident: 5 km away, off duty, and not
    listing the item, so the ranking alone would never offer them the order."""
    ResidentGroupFactory(resident=resident)
    member = VolunteerFactory(
        station=station, user=UserFactory(role="volunteer"), name="结对的党员"
    )
    care.pairing_create(actor=None, resident=resident, volunteer=member, cadence_days=14)
    return member


def offered(order, ring=None):
    qs = order.offers.all() if ring is None else order.offers.filter(ring=ring)
    return {o.provider.volunteer_id for o in qs.select_related("provider")}


def test_the_paired_member_gets_the_first_offer_alone(
    make_order, station, item, operator, paired, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "OFFER_SIZE": 2}
    a, b = near(station, item, 1), near(station, item, 2)
    order = make_order()
    services.order_offer(actor=operator, order=order)
    order.refresh_from_db()
    assert order.offer_ring == 0 and offered(order) == {paired.pk}
    event = order.events.get(action="requests.order.offered")
    assert event.data["paired"] == str(paired.provider)
    # The ring's time is up: the normal ranking follows, the paired offer stays open.
    assert widen_offer.delay(order.pk, 0).get() is True
    order.refresh_from_db()
    assert order.offer_ring == 1 and offered(order, ring=1) == {a.pk, b.pk}
    services.order_take(actor=None, order=order, provider=paired)
    order.refresh_from_db()
    assert order.status == "taken" and order.provider.volunteer == paired
    # The normal rings then go on as before: the last one is still OFFER_MAX_RINGS.
    assert widen_offer.delay(order.pk, 1).get() is False


def test_a_paired_member_under_sanction_is_skipped(
    make_order, station, item, operator, paired, center_manager
):
    complaint = volunteer_services.complaint_record(actor=None, provider=paired, description="x")
    volunteer_services.complaint_rule(
        actor=center_manager, complaint=complaint, valid=True, reason="属实"
    )
    a = near(station, item, 1)
    order = make_order()
    services.order_offer(actor=operator, order=order)
    order.refresh_from_db()
    assert order.offer_ring == 1 and offered(order) == {a.pk}


def test_a_paired_member_at_capacity_or_who_returned_it_is_skipped(
    make_order, station, item, operator, paired, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "PROVIDER_MAX_OPEN_ORDERS": 1}
    near(station, item, 1)
    busy = make_order(description="busy")
    services.order_assign(actor=operator, order=busy, provider=paired)
    order = make_order()
    assert dispatch.paired_candidates(order) == []
    services.order_return(actor=None, order=busy, reason="有事", provider=paired)
    # Returned by them: never offered it again, paired or not.
    services.order_offer(actor=operator, order=busy)
    busy.refresh_from_db()
    live = busy.offers.filter(round=busy.dispatch_round, status=OrderOffer.Status.OFFERED)
    assert busy.offer_ring == 1 and live.exists()
    assert not live.filter(provider__volunteer=paired).exists()


def test_an_emergency_does_not_wait_for_the_paired_member(
    make_order, station, item, operator, paired
):
    a = near(station, item, 1)
    order = make_order(urgency="emergency")
    services.order_offer(actor=operator, order=order)
    order.refresh_from_db()
    assert order.offer_ring == 1 and offered(order, ring=1) == {paired.pk, a.pk}


def test_an_ended_pairing_gives_no_first_offer(make_order, station, item, operator, paired):
    care.pairing_end(actor=None, pairing=paired.pairings.get(), reason="搬家")
    near(station, item, 1)
    order = make_order()
    services.order_offer(actor=operator, order=order)
    order.refresh_from_db()
    assert order.offer_ring == 1 and paired.pk not in offered(order)


def test_the_order_page_marks_the_paired_member_in_the_ranking_at_no_query_more(
    client, make_order, station, item, operator, resident, django_assert_num_queries
):
    member = near(station, item, 0.5)
    near(station, item, 1)
    care.pairing_create(actor=None, resident=resident, volunteer=member)
    order = make_order()
    client.force_login(operator)
    # The budget of tests/requests/test_order_pages.py: session, user, order
    # (+joins), events, offers, phones, contacts, area stations, volunteer
    # ranking, ranked rows (+volunteer, +paired: an EXISTS), merchants, teams.
    with django_assert_num_queries(12):
        response = client.get(reverse("requests:order_detail", args=[order.pk]))
    marks = {c.volunteer.pk: c.paired for c in response.context["candidates"]}
    assert marks[member.pk] is True and list(marks.values()).count(True) == 1
    assert response.content.decode().count('data-testid="paired-mark"') == 1


def test_the_offers_list_names_the_paired_ring(client, make_order, operator, paired):
    order = make_order()
    services.order_offer(actor=operator, order=order)
    assert OrderOffer.objects.get(order=order).ring == 0
    client.cookies["django_language"] = "en"
    client.force_login(operator)
    body = client.get(reverse("requests:order_detail", args=[order.pk])).content.decode()
    assert "paired member first" in body and paired.name in body


def test_a_paired_member_without_a_login_is_not_waited_for(make_order, resident, station, item):
    member = VolunteerFactory(station=station)  # no login: cannot be told, cannot take
    care.pairing_create(actor=None, resident=resident, volunteer=member)
    assert dispatch.paired_candidates(make_order()) == []
