from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from center import services
from center.models import AuditEntry, ServiceItem
from tests.factories import ServiceCategoryFactory, ServiceItemFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db


def item_data(**overrides):
    data = {
        "category": ServiceCategoryFactory(),
        "code": "TV-01",
        "name": "电视机维修",
        "description": "",
        "specialty": SpecialtyFactory(),
        "market_price": Decimal("150"),
        "center_price": Decimal("80"),
        "free_for_special_groups": True,
        "typical_minutes": 60,
        "is_active": True,
    }
    return {**data, **overrides}


def test_service_item_create_audits(center_manager):
    item = services.service_item_create(actor=center_manager, data=item_data())
    assert AuditEntry.objects.get(action="center.service_item.created").target_id == str(item.pk)


@pytest.mark.parametrize("price", ["150", "200"])
def test_center_price_at_or_above_market_is_refused(center_manager, price):
    with pytest.raises(ValidationError) as exc:
        services.service_item_create(
            actor=center_manager, data=item_data(center_price=Decimal(price))
        )
    assert exc.value.messages == ["中心价必须低于市场价。"]  # zh-hans is the default language
    assert not ServiceItem.objects.exists()
    assert not AuditEntry.objects.exists()


def test_database_refuses_center_price_at_market_even_past_the_service():
    item = ServiceItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceItem.objects.filter(pk=item.pk).update(center_price=item.market_price)


def test_update_to_a_price_above_market_changes_nothing(center_manager):
    item = ServiceItemFactory(center_price=Decimal("60"))
    with pytest.raises(ValidationError):
        services.service_item_update(
            actor=center_manager, item=item, data={"center_price": Decimal("120")}
        )
    item.refresh_from_db()
    assert item.center_price == Decimal("60")


def test_price_rule_message_shows_in_chinese_on_the_form(login, center_manager):
    data = item_data(center_price=Decimal("150"))
    post = {k: getattr(v, "pk", v) for k, v in data.items()}
    post["free_for_special_groups"] = "on"
    post["is_active"] = "on"
    response = login(center_manager).post(
        reverse("center:item_create"), post, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):
        expected = str(ServiceItem._meta.constraints[0].violation_error_message)
    assert expected != "The center's price must be below the market price."
    assert expected in response.content.decode()
    assert not ServiceItem.objects.exists()


def test_catalogue_page_query_count_is_constant(login, volunteer_user, django_assert_num_queries):
    client = login(volunteer_user)
    ServiceItemFactory.create_batch(3)
    # session, user, capped count, items page (category+specialty joined),
    # categories with item counts, filter choices: categories, specialties
    with django_assert_num_queries(7):
        client.get(reverse("center:catalogue"))
    category = ServiceCategoryFactory()
    ServiceItemFactory.create_batch(40, category=category)
    with django_assert_num_queries(7):
        response = client.get(reverse("center:catalogue"))
    assert len(response.context["object_list"]) == 43


def test_catalogue_hides_inactive_items_from_non_managers(login, volunteer_user):
    ServiceItemFactory(name="停用项目", is_active=False)
    ServiceItemFactory(name="在用项目")
    names = [
        i.name
        for i in login(volunteer_user).get(reverse("center:catalogue")).context["object_list"]
    ]
    assert names == ["在用项目"]


def test_outsider_is_refused_the_catalogue(login, outsider):
    assert login(outsider).get(reverse("center:catalogue")).status_code == 403


@pytest.mark.parametrize(
    "user_fixture", ["operator", "station_manager", "volunteer_user", "outsider"]
)
def test_only_center_managers_edit_the_catalogue(request, login, user_fixture):
    item = ServiceItemFactory(name="原名")
    client = login(request.getfixturevalue(user_fixture))
    assert client.get(reverse("center:item_create")).status_code == 403
    assert (
        client.post(reverse("center:item_update", args=[item.pk]), {"name": "改名"}).status_code
        == 403
    )
    item.refresh_from_db()
    assert item.name == "原名"
