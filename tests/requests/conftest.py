from decimal import Decimal

import pytest

from requests import services
from requests.models import ResidentContact
from tests.factories import CommunityFactory, ResidentFactory, ServiceItemFactory, VolunteerFactory


@pytest.fixture
def community(station):
    c = CommunityFactory()
    station.communities.add(c)
    return c


@pytest.fixture
def item(db):
    return ServiceItemFactory(
        name="电视机维修", market_price=Decimal("150"), center_price=Decimal("80")
    )


@pytest.fixture
def resident(community):
    return ResidentFactory(community=community, phone="13812345678")


@pytest.fixture
def make_order(operator, resident, item):
    def _make(**kw):
        kw.setdefault("channel", "hotline")
        return services.order_create(
            actor=kw.pop("actor", operator),
            resident=kw.pop("resident", resident),
            item=kw.pop("item", item),
            **kw,
        )

    return _make


@pytest.fixture
def near_volunteer(station, item):
    """On duty, can do the item, 1 km from the resident."""
    from tests.factories import UserFactory

    v = VolunteerFactory(
        station=station,
        on_duty=True,
        latitude=Decimal("30.759000"),
        longitude=Decimal("120.760000"),
        user=UserFactory(role="volunteer"),
    )
    v.service_items.add(item)
    return v


def near(station, item, km_north: float, **kw):
    v = VolunteerFactory(
        station=station,
        on_duty=kw.pop("on_duty", True),
        latitude=Decimal("30.750000") + Decimal(str(round(km_north / 111.2, 6))),
        longitude=Decimal("120.760000"),
        **kw,
    )
    v.service_items.add(item)
    return v


@pytest.fixture
def device(resident, item, settings):
    settings.LIANXIN = {**settings.LIANXIN, "DEVICE_ITEM_CODE": item.code}
    ResidentContact.objects.create(
        resident=resident, name="王小红", relation="女儿", phone="13900009999"
    )
    return services.device_register(actor=None, resident=resident, device_id="YJT-0001")
