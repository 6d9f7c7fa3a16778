import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from center.demo.seed import DEMO_STATION_CODE, DEMO_USERS
from center.models import Area, Role, ServiceCategory, ServiceItem, Specialty, Station, User
from requests.models import ServiceRequest
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_demo(settings):
    settings.LIANXIN = {
        **settings.LIANXIN,
        "DEMO_VOLUNTEERS": 200,
        "DEMO_ORDER_DAYS": 5,
        "DEMO_ORDERS_PER_DAY": 10,
    }


def counts():
    return [
        m.objects.count() for m in (Area, Station, Specialty, ServiceCategory, ServiceItem, User)
    ]


def test_seed_demo_builds_jiaxing_and_is_idempotent(client, settings):
    call_command("seed_demo", verbosity=0)
    first = counts()
    assert set(Area.objects.filter(level="district").values_list("name", flat=True)) == {
        "南湖区",
        "秀洲区",
        "嘉善县",
        "平湖市",
        "海盐县",
        "海宁市",
        "桐乡市",
    }
    assert Specialty.objects.count() == 19
    assert ServiceCategory.objects.count() == 8
    assert ServiceItem.objects.count() >= 120
    assert Station.objects.filter(kind=Station.Kind.CENTER).count() == 1
    assert set(Station.objects.values_list("kind", flat=True)) == set(Station.Kind.values)
    assert not ServiceItem.objects.filter(center_price__gte=F("market_price")).exists()
    assert Volunteer.objects.count() == 200
    assert (
        ServiceRequest.objects.filter(status="archived").exists()
        and ServiceRequest.objects.filter(status="received").exists()
    )
    assert not ServiceRequest.objects.filter(number__startswith="DEMO").exists()
    assert Volunteer.objects.filter(status="suspended").exists()  # the demo complaint history
    # Every provider has its dispatch row, with a location and the load its orders give.
    from django.db.models import Count, Q

    from volunteers.models import Merchant, Provider, ServiceTeam

    assert Provider.objects.count() == (
        Volunteer.objects.count() + Merchant.objects.count() + ServiceTeam.objects.count()
    )
    assert not Provider.objects.filter(latitude__isnull=True).exists()
    loads = Provider.objects.annotate(
        n=Count("orders", filter=Q(orders__status__in=ServiceRequest.OPEN))
    ).exclude(n=F("open_orders"))
    assert not loads.exists()
    call_command("seed_demo", verbosity=0)
    assert counts() == first


@pytest.mark.django_db(transaction=True)
def test_seed_demo_is_deterministic():
    def snapshot():
        return (
            list(
                Area.objects.filter(level="community")
                .order_by("code")
                .values_list("code", "name")[:40]
            ),
            list(Volunteer.objects.order_by("pk").values_list("name", "mobile", "id_number")[:40]),
        )

    call_command("seed_demo", verbosity=0)
    first = snapshot()
    call_command("flush", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert snapshot() == first


def test_every_demo_login_works_and_lands_on_real_data(client, settings):
    call_command("seed_demo", verbosity=0)
    for username, mobile, _name, _role in DEMO_USERS:
        # Through the login page, as people log in (the lockout backend needs the request).
        response = client.post(
            reverse("login"), {"username": mobile, "password": settings.LIANXIN["DEMO_PASSWORD"]}
        )
        assert response.status_code == 302, username
        assert client.get("/").status_code == 200
        client.logout()
    me = Volunteer.objects.get(user__username="volunteer")
    assert ServiceRequest.objects.filter(provider__volunteer=me, status="dispatched").count() == 1
    assert me.provider.offers.filter(status="offered").exists()
    manager = User.objects.get(username="station")
    assert manager.role == Role.STATION_MANAGER
    assert list(manager.stations.values_list("code", flat=True)) == [DEMO_STATION_CODE]
