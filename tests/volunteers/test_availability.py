import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import VolunteerFactory
from volunteers.availability import format_text, is_available, parse


def test_parse_and_format_round_trip():
    data = parse("周一 18:00-21:00；周六 9:00-12:00, sat 14:00-17:30")
    assert data == {"mon": [["18:00", "21:00"]], "sat": [["09:00", "12:00"], ["14:00", "17:30"]]}
    assert parse(format_text(data)) == data


@pytest.mark.parametrize(
    "text", ["周八 09:00-10:00", "周一 25:00-26:00", "周一 12:00-09:00", "whenever"]
)
def test_bad_periods_are_refused(text):
    with pytest.raises(ValidationError):
        parse(text)


def test_is_available_at_a_moment():
    data = parse("周六 09:00-12:00")
    saturday = datetime.datetime(2026, 11, 28, 9, 30)
    assert is_available(data, saturday)
    assert not is_available(data, saturday.replace(hour=12))
    assert not is_available(data, saturday + datetime.timedelta(days=1))


@pytest.mark.django_db
def test_volunteer_form_saves_availability(login, station_manager, station):
    volunteer = VolunteerFactory(station=station, mobile="13700001234")
    login(station_manager).post(
        reverse("volunteers:volunteer_update", args=[volunteer.pk]),
        {
            "name": volunteer.name,
            "mobile": "13700001234",
            "kind": "community",
            "station": station.pk,
            "availability": "周六 09:00-17:00",
        },
    )
    volunteer.refresh_from_db()
    assert volunteer.weekly_availability == {"sat": [["09:00", "17:00"]]}


@pytest.mark.django_db
def test_volunteer_sets_own_availability_and_bad_input_changes_nothing(client, station):
    from tests.factories import UserFactory

    user = UserFactory(role="volunteer")
    me = VolunteerFactory(
        user=user, station=station, weekly_availability={"mon": [["08:00", "10:00"]]}
    )
    client.force_login(user)
    response = client.post(
        reverse("volunteers:my_availability"), {"availability": "周八 09:00-10:00"}, follow=True
    )
    assert "每个时段请写成" in response.content.decode()
    me.refresh_from_db()
    assert me.weekly_availability == {"mon": [["08:00", "10:00"]]}
    client.post(reverse("volunteers:my_availability"), {"availability": "周六 09:00-17:00"})
    me.refresh_from_db()
    assert me.weekly_availability == {"sat": [["09:00", "17:00"]]}
    assert "周六 09:00-17:00" in client.get(reverse("volunteers:me")).content.decode()
