import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry, Notification
from tests.factories import UserFactory, VolunteerFactory
from volunteers import services
from volunteers.models import Certificate, HoursEntry
from volunteers.stars import star_level

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def record(volunteer, hours, ref="", **kw):
    return services.hours_record(
        actor=None,
        volunteer=volunteer,
        date=kw.pop("date", YESTERDAY),
        hours=Decimal(hours),
        source=kw.pop("source", HoursEntry.Source.ORDER),
        description="修电视",
        station=volunteer.station,
        source_ref=ref,
        **kw,
    )


@pytest.mark.parametrize(
    ("hours", "stars"),
    [
        (0, 0),
        (99.5, 0),
        (100, 1),
        (299, 1),
        (300, 2),
        (600, 3),
        (1000, 4),
        (1499, 4),
        (1500, 5),
        (9000, 5),
    ],
)
def test_star_levels_follow_the_thresholds(hours, stars):
    assert star_level(Decimal(str(hours))) == stars


def test_star_thresholds_are_settings(settings):
    settings.LIANXIN = {**settings.LIANXIN, "STAR_THRESHOLDS": (10, 20, 30, 40, 50)}
    assert star_level(Decimal("25")) == 2


def test_verified_hours_add_up_and_tell_the_volunteer_of_a_new_star():
    user = UserFactory(role="volunteer")
    volunteer = VolunteerFactory(user=user, verified_hours=Decimal("99"))
    record(volunteer, "2", ref="order-1")
    volunteer.refresh_from_db()
    assert volunteer.verified_hours == Decimal("101") and volunteer.star_level == 1
    assert Notification.objects.get(recipient=user).key == f"star:{volunteer.pk}:1"


def test_crediting_the_same_source_twice_is_idempotent():
    volunteer = VolunteerFactory()
    first = record(volunteer, "1.5", ref="order-7")
    again = record(volunteer, "1.5", ref="order-7")
    assert first.pk == again.pk
    volunteer.refresh_from_db()
    assert volunteer.verified_hours == Decimal("1.5")


def test_manual_entry_needs_a_reason_and_no_future_date():
    volunteer = VolunteerFactory()
    with pytest.raises(ValidationError):
        record(volunteer, "2", source=HoursEntry.Source.MANUAL)
    with pytest.raises(ValidationError):
        record(volunteer, "2", date=timezone.localdate() + datetime.timedelta(days=1))
    with pytest.raises(ValidationError):
        record(volunteer, "25")
    assert not HoursEntry.objects.exists()
    volunteer.refresh_from_db()
    assert volunteer.verified_hours == 0


def test_unverified_hours_do_not_count_until_verified(station_manager):
    volunteer = VolunteerFactory()
    entry = record(volunteer, "3", verified=False)
    volunteer.refresh_from_db()
    assert volunteer.verified_hours == 0
    services.hours_verify(actor=station_manager, entry=entry)
    volunteer.refresh_from_db()
    assert volunteer.verified_hours == 3
    with pytest.raises(ValidationError):
        services.hours_verify(actor=station_manager, entry=entry)


def test_certificate_holds_the_required_fields_and_unique_numbers(
    station_manager, station, settings
):
    settings.LIANXIN = {**settings.LIANXIN, "CERTIFICATE_SIGNATORY": "王建国"}
    volunteer = VolunteerFactory(station=station, id_number="11010519491231002X")
    record(volunteer, "2", ref="a")
    record(volunteer, "3.5", ref="b", source=HoursEntry.Source.SERVICE_DAY)
    start, end = YESTERDAY.replace(day=1) - datetime.timedelta(days=40), timezone.localdate()
    first = services.certificate_issue(
        actor=station_manager,
        volunteer=volunteer,
        station=station,
        period_start=start,
        period_end=end,
    )
    second = services.certificate_issue(
        actor=station_manager,
        volunteer=volunteer,
        station=station,
        period_start=start,
        period_end=end,
    )
    assert first.number != second.number and first.number.startswith(f"JXZM{end.year}")
    s = first.snapshot
    assert s["name"] == volunteer.name and s["id_number"] == "11010519491231002X"
    assert s["volunteer_no"] == volunteer.volunteer_no and s["total_hours"] == "5.50"
    assert s["recording_station"] == station.name and s["handler"] == str(station_manager)
    assert s["issuer"] and s["person_in_charge"] == "王建国"
    assert len(s["services"]) == 2
    assert (
        AuditEntry.objects.filter(action="center.pii.revealed", data__purpose="certificate").count()
        == 2
    )
    assert Certificate.objects.count() == 2


def test_certificate_refused_without_hours(station_manager, station):
    volunteer = VolunteerFactory(station=station, id_number="11010519491231002X")
    with pytest.raises(ValidationError):
        services.certificate_issue(
            actor=station_manager,
            volunteer=volunteer,
            station=station,
            period_start=YESTERDAY,
            period_end=YESTERDAY,
        )
    assert not Certificate.objects.exists()


def test_certificate_page_prints_for_the_manager_and_the_volunteer_only(
    client, station_manager, station, other_station
):
    owner = UserFactory(role="volunteer")
    volunteer = VolunteerFactory(station=station, user=owner, id_number="11010519491231002X")
    record(volunteer, "2", ref="x")
    cert = services.certificate_issue(
        actor=station_manager,
        volunteer=volunteer,
        station=station,
        period_start=YESTERDAY,
        period_end=YESTERDAY,
    )
    url = reverse("volunteers:certificate_detail", args=[cert.pk])
    client.force_login(owner)
    page = client.get(url).content.decode()
    assert "志愿服务证明" in page and cert.number in page and volunteer.volunteer_no in page
    client.force_login(UserFactory(role="volunteer"))
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(role="station_manager", stations=[other_station]))
    assert client.get(url).status_code == 404


def test_manual_hours_form_refuses_without_reason_and_writes_nothing(
    client, station_manager, station
):
    volunteer = VolunteerFactory(station=station)
    client.force_login(station_manager)
    url = reverse("volunteers:volunteer_hours_add", args=[volunteer.pk])
    response = client.post(
        url,
        {
            "date": YESTERDAY,
            "hours": "2",
            "description": "值班",
            "reason": "",
            "station": station.pk,
        },
        follow=True,
    )
    assert "这个字段是必填项" in response.content.decode()
    assert not HoursEntry.objects.exists()
    client.post(
        url,
        {
            "date": YESTERDAY,
            "hours": "2",
            "description": "值班",
            "reason": "纸质签到补录",
            "station": station.pk,
        },
    )
    assert HoursEntry.objects.get().source == HoursEntry.Source.MANUAL
