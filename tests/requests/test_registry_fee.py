"""The fee rule, through order_create: free when the resident is marked
free; free for a special-group resident when the item is free for special
groups; charged otherwise."""

from decimal import Decimal

import pytest

from requests.services import residents as registry
from tests.factories import ServiceItemFactory, special_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def free_item(db):
    return ServiceItemFactory(center_price=Decimal("30"), free_for_special_groups=True)


@pytest.fixture
def paid_item(db):
    return ServiceItemFactory(center_price=Decimal("30"), free_for_special_groups=False)


def test_a_resident_marked_free_is_served_free(make_order, resident, paid_item):
    resident.is_free = True
    resident.save(update_fields=["is_free"])
    assert make_order(item=paid_item).fee_waived


def test_special_group_and_an_item_free_for_them_is_free(make_order, resident, free_item):
    registry.group_add(actor=None, resident=resident, group=special_group("minimum-living"))
    resident.refresh_from_db()
    order = make_order(item=free_item, resident=resident)
    assert order.fee_waived and order.quoted_price == Decimal("30")
    resident.refresh_from_db()
    assert resident.last_contact_at == order.received_at  # kept for the silent-resident list


def test_special_group_and_an_item_not_free_is_charged(make_order, resident, paid_item):
    registry.group_add(actor=None, resident=resident, group=special_group("minimum-living"))
    resident.refresh_from_db()
    assert not make_order(item=paid_item, resident=resident).fee_waived


def test_not_special_and_item_free_for_special_groups_is_charged(make_order, resident, free_item):
    assert not make_order(item=free_item).fee_waived


def test_leaving_the_last_group_ends_the_free_service(make_order, resident, free_item):
    m = registry.group_add(actor=None, resident=resident, group=special_group("minimum-living"))
    registry.group_remove(actor=None, membership=m)
    resident.refresh_from_db()
    assert not make_order(item=free_item, resident=resident).fee_waived
