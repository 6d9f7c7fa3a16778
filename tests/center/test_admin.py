import pytest
from django.contrib import admin
from django.urls import reverse

from center.admin_base import LianxinAdmin, ReadOnlyAdmin
from center.models import AuditEntry
from tests.factories import ServiceItemFactory, StationFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"center", "volunteers", "requests", "events"}


def project_admins():
    return [(m, a) for m, a in admin.site._registry.items() if m._meta.app_label in PROJECT_APPS]


def test_every_project_admin_uses_the_fast_base():
    for model, model_admin in project_admins():
        assert isinstance(model_admin, LianxinAdmin | ReadOnlyAdmin), model
        assert model_admin.show_full_result_count is False, model


def test_list_select_related_names_every_foreign_key_shown():
    for model, model_admin in project_admins():
        fks = {
            name
            for name in model_admin.list_display
            if isinstance(name, str)
            and getattr(model._meta._forward_fields_map.get(name), "many_to_one", False)
        }
        if fks:
            assert isinstance(model_admin.list_select_related, list | tuple), model
            assert fks <= set(model_admin.list_select_related), model


def test_every_project_model_is_in_the_admin():
    from django.apps import apps

    # Edited inline on their parent's page.
    inline_only = {"ResidentPhone", "ResidentContact", "OrderEvent", "MerchantOffer"}
    registered = {m for m, _a in project_admins()}
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            if (
                model._meta.object_name.startswith("Historical")
                or model._meta.object_name in inline_only
            ):
                continue
            assert model in registered, model


def test_no_date_hierarchy_on_project_admins():
    # date_hierarchy runs a distinct-dates query over the whole table on every page.
    for model, model_admin in project_admins():
        assert not model_admin.date_hierarchy, model


def test_phone_searches_are_exact_or_prefix():
    for model, model_admin in project_admins():
        for field in model_admin.search_fields:
            if any(word in field for word in ("mobile", "phone", "id_number")):
                assert field.startswith(("=", "^")), (model, field)


def test_station_changelist_query_count_constant(
    client, center_manager, center_station, django_assert_max_num_queries, django_assert_num_queries
):
    client.force_login(center_manager)
    url = reverse("admin:center_station_changelist")
    StationFactory.create_batch(2, parent=center_station)
    with django_assert_max_num_queries(12) as small:
        assert client.get(url).status_code == 200
    StationFactory.create_batch(40, parent=center_station)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_audit_entries_are_read_only_in_admin(client, center_manager):
    client.force_login(center_manager)
    AuditEntry.objects.create(action="center.test.done")
    assert client.get(reverse("admin:center_auditentry_add")).status_code == 403


def test_admin_edit_of_a_service_item_goes_through_the_service(client, center_manager):
    item = ServiceItemFactory()
    client.force_login(center_manager)
    url = reverse("admin:center_serviceitem_change", args=[item.pk])
    data = {
        "category": item.category_id,
        "code": item.code,
        "name": "改过的名字",
        "description": "",
        "specialty": item.specialty_id,
        "market_price": "100",
        "center_price": "50",
        "typical_minutes": "60",
        "is_active": "on",
    }
    assert client.post(url, data).status_code == 302
    assert AuditEntry.objects.filter(
        action="center.service_item.updated", target_id=str(item.pk)
    ).exists()
    data["center_price"] = "100"
    response = client.post(url, data)
    assert response.status_code == 200  # form redisplayed with the price error
    item.refresh_from_db()
    assert item.center_price == 50


def test_outsider_cannot_open_the_admin(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response["Location"]
