"""Reactions to the center's signals: a lowered center price caps merchants'
offers through ``services.merchant_offers_cap``, audited, in the center's
transaction."""

from decimal import Decimal

import pytest
from django.db import transaction

from center import services as center_services
from center.models import AuditEntry
from tests.factories import MerchantFactory, ServiceItemFactory
from volunteers import services
from volunteers.models import MerchantOffer

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers(center_manager):
    """An item at ¥60 from the center, one merchant below it, one at it."""
    item = ServiceItemFactory(market_price=Decimal("100"), center_price=Decimal("60"))
    cheap, dear = MerchantFactory(), MerchantFactory()
    services.merchant_offer_set(
        actor=center_manager, merchant=cheap, item=item, price=Decimal("40")
    )
    services.merchant_offer_set(actor=center_manager, merchant=dear, item=item, price=Decimal("60"))
    return item, cheap, dear


def _prices() -> dict[int, Decimal]:
    return dict(MerchantOffer.objects.values_list("merchant_id", "price"))


def test_lowering_the_center_price_caps_merchant_offers(center_manager, offers):
    item, cheap, dear = offers
    center_services.service_item_update(
        actor=center_manager, item=item, data={"center_price": Decimal("50")}
    )
    assert _prices() == {cheap.pk: Decimal("40"), dear.pk: Decimal("50")}


def test_the_cap_is_audited_with_the_actor_of_the_price_change(center_manager, offers):
    item, _cheap, dear = offers
    center_services.service_item_update(
        actor=center_manager, item=item, data={"center_price": Decimal("50")}
    )
    entry = AuditEntry.objects.get(action="volunteers.merchant.offers_capped")
    assert entry.actor == center_manager
    assert (entry.target_type, entry.target_id) == ("center.serviceitem", str(item.pk))
    assert entry.data["merchants"] == [dear.pk]
    assert Decimal(entry.data["price"]) == 50 and Decimal(entry.data["was"]) == 60


def test_the_cap_rolls_back_with_the_price_change(center_manager, offers):
    item, cheap, dear = offers

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        center_services.service_item_update(
            actor=center_manager, item=item, data={"center_price": Decimal("30")}
        )
        raise Abort
    assert _prices() == {cheap.pk: Decimal("40"), dear.pk: Decimal("60")}
    assert not AuditEntry.objects.filter(action="volunteers.merchant.offers_capped").exists()


def test_merchant_offers_cap_changes_and_audits_nothing_when_no_offer_is_above(
    center_manager, offers
):
    item, cheap, dear = offers
    assert (
        services.merchant_offers_cap(actor=center_manager, item=item, old_price=item.center_price)
        == []
    )
    assert _prices() == {cheap.pk: Decimal("40"), dear.pk: Decimal("60")}
    assert not AuditEntry.objects.filter(action="volunteers.merchant.offers_capped").exists()


def test_raising_the_center_price_leaves_merchant_prices_alone(center_manager, offers):
    item, cheap, dear = offers
    center_services.service_item_update(
        actor=center_manager, item=item, data={"center_price": Decimal("80")}
    )
    assert _prices() == {cheap.pk: Decimal("40"), dear.pk: Decimal("60")}
    assert not AuditEntry.objects.filter(action="volunteers.merchant.offers_capped").exists()
