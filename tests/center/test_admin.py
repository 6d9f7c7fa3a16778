import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.urls import reverse

from center.admin_base import LianxinAdmin, ReadOnlyAdmin
from center.models import AuditEntry
from tests.factories import ServiceItemFactory, StationFactory

pytestmark = pytest.mark.django_db

# The project's own apps (not Django's or a library's): a new app is checked too.
PROJECT_APPS = {c.label for c in django_apps.get_app_configs() if "site-packages" not in c.path}


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


def _user_change_data(user, **overrides):
    """What the back office's user change form posts, as it shows the user."""
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "mobile": user.mobile,
        "full_name": user.full_name,
        "role": user.role,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_role_change_goes_through_user_set_role(client, center_manager, center_station):
    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk", role="operator")
    client.force_login(center_manager)
    url = reverse("admin:center_user_change", args=[clerk.pk])
    response = client.post(
        url, _user_change_data(clerk, role="station_manager", stations=[center_station.pk])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    clerk.refresh_from_db()
    assert clerk.role == "station_manager"
    assert list(clerk.stations.all()) == [center_station]
    entry = AuditEntry.objects.get(action="center.user.role_set", target_id=str(clerk.pk))
    assert entry.actor == center_manager
    assert entry.data == {"role": "station_manager", "stations": [center_station.pk]}


def test_admin_refuses_a_station_manager_without_station(client, center_manager):
    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk", role="operator")
    client.force_login(center_manager)
    url = reverse("admin:center_user_change", args=[clerk.pk])
    response = client.post(url, _user_change_data(clerk, role="station_manager"))
    assert response.status_code == 200  # redisplayed with the error on the field
    assert (
        "站长至少要负责一个站点" in response.content.decode()
        or response.context["adminform"].form.errors["stations"]
    )
    clerk.refresh_from_db()
    assert clerk.role == "operator"
    assert not AuditEntry.objects.filter(target_id=str(clerk.pk)).exists()


def test_admin_user_details_change_is_audited_without_values(client, center_manager):
    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk", role="operator", mobile="13900001111")
    client.force_login(center_manager)
    url = reverse("admin:center_user_change", args=[clerk.pk])
    assert client.post(url, _user_change_data(clerk, mobile="13900002222")).status_code == 302
    clerk.refresh_from_db()
    assert clerk.mobile == "13900002222"
    entry = AuditEntry.objects.get(action="center.user.updated", target_id=str(clerk.pk))
    assert entry.data == {"fields": ["mobile"]}  # which field, never the number
    assert not AuditEntry.objects.filter(action="center.user.role_set").exists()


def test_admin_add_of_reference_data_is_audited(client, center_manager):
    from center.models import Specialty

    client.force_login(center_manager)
    response = client.post(
        reverse("admin:center_specialty_add"), {"code": "ZZ", "name": "测试专长"}
    )
    assert response.status_code == 302
    specialty = Specialty.objects.get(code="ZZ")
    entry = AuditEntry.objects.get(action="center.specialty.created")
    assert entry.target_id == str(specialty.pk) and entry.actor == center_manager
    assert set(entry.data["fields"]) >= {"code", "name"}


def test_admin_add_of_a_login_never_audits_the_password(client, center_manager):
    from center.models import User

    client.force_login(center_manager)
    response = client.post(
        reverse("admin:center_user_add"),
        {
            "username": "newclerk",
            "usable_password": "true",
            "password1": "a-Long-pass-2026!",
            "password2": "a-Long-pass-2026!",
            "mobile": "13900003333",
            "full_name": "新接线员",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newclerk")
    entry = AuditEntry.objects.get(action="center.user.created", target_id=str(user.pk))
    assert "password" not in str(entry.data) and "13900003333" not in str(entry.data)
    assert user.check_password("a-Long-pass-2026!")
