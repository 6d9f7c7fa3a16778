"""The provider's side on the phone: offers, taking, the steps, and nobody else's order."""

import pytest
from django.urls import reverse

from requests import services
from tests.factories import UserFactory
from tests.requests.conftest import near

pytestmark = pytest.mark.django_db


def test_volunteer_side_offer_take_and_finish(client, operator, make_order, near_volunteer):
    order = make_order()
    services.order_offer(actor=operator, order=order)
    client.force_login(near_volunteer.user)
    page = client.get(reverse("requests:my_orders")).content.decode()
    assert "电视机维修" in page and "1.00 km" in page
    assert (
        "电视机维修"
        in client.get(reverse("requests:my_offers"), HTTP_HX_REQUEST="true").content.decode()
    )
    client.post(reverse("requests:my_take", args=[order.pk]))
    assert "电视机维修" not in client.get(reverse("requests:my_offers")).content.decode()
    for step in ("on_the_way", "arrive"):
        client.post(reverse("requests:my_step", args=[order.pk, step]))
    client.post(
        reverse("requests:my_step", args=[order.pk, "complete"]), {"notes": "修好了", "fee": "80"}
    )
    order.refresh_from_db()
    assert order.status == "completed" and order.volunteer == near_volunteer


def test_a_volunteer_cannot_touch_another_volunteers_order(
    client, operator, make_order, near_volunteer, station, item
):
    order = make_order()
    services.order_assign(actor=operator, order=order, provider=near_volunteer)
    other = near(station, item, 2, user=UserFactory(role="volunteer"))
    client.force_login(other.user)
    assert client.get(reverse("requests:my_order", args=[order.pk])).status_code == 404
    assert (
        client.post(
            reverse("requests:my_step", args=[order.pk, "return"]), {"reason": "x"}
        ).status_code
        == 404
    )
    assert client.post(reverse("requests:my_take", args=[order.pk])).status_code == 404
    order.refresh_from_db()
    assert order.status == "dispatched"
