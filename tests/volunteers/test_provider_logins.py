"""Every provider can log in (issue 8): the form, the import, the back office
and the demo data give each volunteer and merchant a login, with a one-time
activation code shown once to staff; staff in scope issue new codes."""

import re
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from center.models import ActivationCode, AuditEntry, Role, User
from tests.factories import MerchantFactory, UserFactory, VolunteerFactory
from volunteers import services
from volunteers.demo import seed as demo_seed
from volunteers.models import ImportBatch, Merchant, Volunteer

pytestmark = pytest.mark.django_db

HEADER = "姓名,手机号,身份证号,党员,类型,工作单位,站点编号,专长\n"
NEW_PASSWORD = "Hongqi-piao-2026"


def _codes(response) -> list[str]:
    return re.findall(r'data-testid="code">(\d{8})<', response.content.decode())


def _activate(client, mobile, code):
    client.logout()
    return client.post(
        reverse("account_activate"),
        {"mobile": mobile, "code": code, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def _admin_form_data(response) -> dict:
    """What the admin's change/add form would post back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        value = value() if callable(value) else value
        if value is None:
            continue
        if isinstance(value, dict):
            data[name] = "{}"
        elif isinstance(value, list | tuple):
            data[name] = [getattr(v, "pk", v) for v in value]
        else:
            data[name] = getattr(value, "pk", value)
    return data


# --- The form --------------------------------------------------------------------------


def test_registering_a_volunteer_makes_a_login_and_shows_its_code_once(
    login, station_manager, station
):
    client = login(station_manager)
    response = client.post(
        reverse("volunteers:volunteer_create"),
        {
            "name": "张三",
            "mobile": "136 0000 0001",
            "kind": "community",
            "station": station.pk,
            "is_party_member": "on",
        },
    )
    volunteer = Volunteer.objects.select_related("user").get()
    user = volunteer.user
    assert (user.role, user.mobile, user.username) == (
        Role.VOLUNTEER,
        "13600000001",
        volunteer.volunteer_no,
    )
    (code,) = _codes(response)
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(
        action="center.account.code_shown", actor=station_manager, target_id=str(user.pk)
    ).exists()
    assert client.get(volunteer.get_absolute_url()).content.decode().count(code) == 0
    # The volunteer sets a password with it and lands on their own pages.
    assert _activate(client, "13600000001", code)["Location"] == reverse("center:home")
    assert client.get(reverse("volunteers:me")).status_code == 200


def test_registering_a_merchant_makes_a_merchant_login(login, station_manager, station):
    client = login(station_manager)
    response = client.post(
        reverse("volunteers:merchant_create"),
        {
            "name": "嘉兴便民维修部",
            "kind": "individual",
            "licence_no": "92330400MA0000001X",
            "contact_name": "周老板",
            "mobile": "13600000002",
            "staff_count": 2,
            "stations": [station.pk],
        },
    )
    merchant = Merchant.objects.select_related("user").get()
    assert merchant.user.role == Role.MERCHANT and merchant.user.mobile == "13600000002"
    (code,) = _codes(response)
    assert _activate(client, "13600000002", code).status_code == 302


def test_a_staff_mobile_is_refused_on_the_form_and_nothing_is_saved(
    login, station_manager, station, operator
):
    response = login(station_manager).post(
        reverse("volunteers:volunteer_create"),
        {"name": "张三", "mobile": operator.mobile, "kind": "community", "station": station.pk},
    )
    assert response.context["form"].has_error("mobile")
    assert (
        not Volunteer.objects.exists() and User.objects.filter(mobile=operator.mobile).count() == 1
    )


def test_a_changed_mobile_moves_the_login_with_it(station_manager, station):
    volunteer = services.volunteer_create(
        actor=station_manager,
        data={"name": "张三", "mobile": "13600000001", "kind": "community", "station": station},
    )
    services.volunteer_update(
        actor=station_manager,
        volunteer=volunteer,
        data={"mobile": "13600000009", "name": "张三丰"},
    )
    user = User.objects.get(pk=volunteer.user_id)
    assert (user.mobile, user.full_name) == ("13600000009", "张三丰")


# --- The import (all or nothing) ----------------------------------------------------------


def test_an_import_gives_every_row_a_login_and_shows_every_code(login, station_manager, station):
    client = login(station_manager)
    body = (
        f"张三,13600000001,,是,社区志愿者,,{station.code},\n"
        f"李四,13600000002,,是,社区志愿者,,{station.code},\n"
    )
    batch = services.import_preview(
        actor=station_manager, kind="volunteers", filename="v.csv", content=(HEADER + body).encode()
    )
    response = client.post(reverse("volunteers:import_apply", args=[batch.pk]))
    codes = _codes(response)
    assert len(codes) == 2
    users = {v.mobile: v.user for v in Volunteer.objects.select_related("user")}
    assert {u.role for u in users.values()} == {Role.VOLUNTEER}
    assert {u.mobile for u in users.values()} == {"13600000001", "13600000002"}
    assert AuditEntry.objects.filter(action="center.account.code_shown").count() == 2
    assert _activate(client, "13600000002", codes[1]).status_code == 302


def test_a_staff_mobile_in_the_file_is_a_row_error_and_no_login_is_made(
    station_manager, station, operator
):
    body = (
        f"张三,13600000001,,是,社区志愿者,,{station.code},\n"
        f"李四,{operator.mobile},,是,社区志愿者,,{station.code},\n"
    )
    users = User.objects.count()
    batch = services.import_preview(
        actor=station_manager, kind="volunteers", filename="v.csv", content=(HEADER + body).encode()
    )
    assert batch.status == ImportBatch.Status.REJECTED and batch.errors[0]["row"] == 3
    with pytest.raises(ValidationError):  # not waiting to be applied
        services.import_apply(actor=station_manager, batch=batch)
    assert not Volunteer.objects.exists() and User.objects.count() == users


def test_an_import_failing_while_making_logins_writes_nothing(station_manager, station):
    body = (
        f"张三,13600000001,,是,社区志愿者,,{station.code},\n"
        f"李四,13600000002,,是,社区志愿者,,{station.code},\n"
    )
    batch = services.import_preview(
        actor=station_manager, kind="volunteers", filename="v.csv", content=(HEADER + body).encode()
    )
    users = User.objects.count()
    # A login of the file taken between the check and the write (a race).
    with (
        mock.patch("center.accounts.mobiles_taken", return_value={"13600000002"}),
        pytest.raises(ValidationError),
    ):
        services.import_apply(actor=station_manager, batch=batch)
    assert not Volunteer.objects.exists() and User.objects.count() == users
    assert not ActivationCode.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED


def test_an_imported_merchant_gets_a_merchant_login(station_manager, station):
    header = "名称,类型,营业执照号,联系人,手机号,服务站点编号\n"
    body = f"便民维修部,个体户,92330400MA0000009X,周老板,13600000003,{station.code}\n"
    batch = services.import_preview(
        actor=station_manager, kind="merchants", filename="m.csv", content=(header + body).encode()
    )
    batch = services.import_apply(actor=station_manager, batch=batch)
    (issued,) = batch.activations
    merchant = Merchant.objects.get()
    assert merchant.user == issued.user and issued.user.role == Role.MERCHANT


# --- The back office ----------------------------------------------------------------------


def test_saving_a_volunteer_in_the_admin_keeps_its_login(client, center_manager, station):
    user = UserFactory(role=Role.VOLUNTEER)
    volunteer = VolunteerFactory(station=station, user=user)
    client.force_login(center_manager)
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    data = _admin_form_data(client.get(url))
    data["name"] = "改过的名字"
    assert client.post(url, data).status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.name == "改过的名字" and volunteer.user_id == user.pk


def test_saving_a_merchant_in_the_admin_keeps_its_login(client, center_manager, station):
    user = UserFactory(role=Role.MERCHANT)
    merchant = MerchantFactory(stations=[station], user=user)
    client.force_login(center_manager)
    url = reverse("admin:volunteers_merchant_change", args=[merchant.pk])
    data = _admin_form_data(client.get(url))
    data.update({"offers-TOTAL_FORMS": 0, "offers-INITIAL_FORMS": 0})
    assert client.post(url, data).status_code == 302
    merchant.refresh_from_db()
    assert merchant.user_id == user.pk


def test_adding_a_volunteer_in_the_admin_makes_its_login_and_shows_the_code(
    client, center_manager, station
):
    client.force_login(center_manager)
    url = reverse("admin:volunteers_volunteer_add")
    data = _admin_form_data(client.get(url))
    data.update(
        {"name": "王五", "mobile": "13600000005", "kind": "community", "station": station.pk}
    )
    response = client.post(url, data, follow=True)
    volunteer = Volunteer.objects.select_related("user").get()
    assert volunteer.user.role == Role.VOLUNTEER and volunteer.user.mobile == "13600000005"
    shown = [str(m) for m in response.context["messages"]]
    assert any(volunteer.volunteer_no in m or "王五" in m for m in shown)
    assert AuditEntry.objects.filter(
        action="center.account.code_shown", data__purpose="admin"
    ).exists()


# --- A new code from the provider's page (scoped) ---------------------------------------------


def test_a_manager_issues_a_new_code_only_for_providers_they_may_see(
    login, station_manager, station, other_station, operator, outsider
):
    volunteer = services.volunteer_create(
        actor=station_manager,
        data={"name": "张三", "mobile": "13600000001", "kind": "community", "station": station},
    )
    first = volunteer.activation.code
    url = reverse("volunteers:volunteer_activation", args=[volunteer.pk])
    other_manager = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    assert login(other_manager).post(url).status_code == 404
    assert login(outsider).post(url).status_code == 403
    assert login(operator).post(url).status_code == 403
    assert login(station_manager).get(url).status_code == 405
    response = login(station_manager).post(url)
    (code,) = _codes(response)
    issued = AuditEntry.objects.filter(action="center.account.code_issued", actor=station_manager)
    assert issued.count() == 2  # registration and this one; the outsiders issued nothing
    if code != first:
        assert _activate(login(station_manager), "13600000001", first).status_code == 200
    assert _activate(login(station_manager), "13600000001", code).status_code == 302


def test_a_merchant_code_is_refused_to_a_manager_of_another_station(
    login, station_manager, station, other_station
):
    merchant = MerchantFactory(stations=[other_station])
    assert (
        login(station_manager)
        .post(reverse("volunteers:merchant_activation", args=[merchant.pk]))
        .status_code
        == 404
    )
    assert not ActivationCode.objects.exists()


def test_a_provider_registered_before_logins_gets_one_from_its_page(
    login, station_manager, station
):
    volunteer = VolunteerFactory(station=station, mobile="13600000007")
    response = login(station_manager).post(
        reverse("volunteers:volunteer_activation", args=[volunteer.pk])
    )
    (code,) = _codes(response)
    volunteer.refresh_from_db()
    assert volunteer.user.role == Role.VOLUNTEER and volunteer.user.mobile == "13600000007"
    page = login(station_manager).get(volunteer.get_absolute_url()).content.decode()
    assert 'data-testid="login-state"' in page and volunteer.volunteer_no in page


# --- A merchant's login sees only what is theirs ----------------------------------------------


def test_a_merchant_login_reaches_home_and_its_orders_but_no_staff_page(
    login, station_manager, station
):
    merchant = services.merchant_create(
        actor=station_manager,
        data={
            "name": "便民维修部",
            "kind": "individual",
            "licence_no": "92330400MA0000001X",
            "contact_name": "周",
            "mobile": "13600000002",
        },
        stations=[station],
    )
    client = login(merchant.user)
    assert client.get(reverse("center:home")).status_code == 200
    assert client.get(reverse("requests:my_orders")).status_code == 200
    for name in (
        "center:station_list",
        "volunteers:volunteer_list",
        "volunteers:merchant_list",
        "requests:order_list",
        "requests:console",
        "volunteers:me",
    ):
        assert client.get(reverse(name)).status_code == 403, name


# --- The demo data ------------------------------------------------------------------------------


def test_every_demo_volunteer_and_merchant_logs_in_with_the_demo_password(client, settings):
    settings.LIANXIN = {
        **settings.LIANXIN,
        "DEMO_VOLUNTEERS": 100,
        "DEMO_ORDER_DAYS": 2,
        "DEMO_ORDERS_PER_DAY": 10,
    }
    with mock.patch.object(demo_seed, "make_password", wraps=demo_seed.make_password) as hashed:
        call_command("seed_demo", verbosity=0)
    assert hashed.call_count == 1  # one hash for every demo provider, not one each
    assert not Volunteer.objects.filter(user__isnull=True).exists()
    assert not Merchant.objects.filter(user__isnull=True).exists()
    providers = User.objects.filter(role__in=[Role.VOLUNTEER, Role.MERCHANT]).exclude(
        username__in=["volunteer", "merchant"]
    )
    assert providers.values("password").distinct().count() == 1
    for model in (Volunteer, Merchant):
        someone = model.objects.exclude(user__username__in=["volunteer", "merchant"]).last()
        response = client.post(
            reverse("login"),
            {"username": someone.mobile, "password": settings.LIANXIN["DEMO_PASSWORD"]},
        )
        assert response.status_code == 302, model
        assert client.get(reverse("center:home")).status_code == 200
        client.logout()
    demo_merchant = Merchant.objects.get(user__username="merchant")
    assert demo_merchant.mobile == "13900000005"
