"""Bad input on the events forms: a clear message and nothing written, never
a 500 (found by the probe: year 1 overflowed the times); the back office
never reads a calendar token back through a lookup."""

import pytest
from django.urls import reverse

from events.models import Activity, CalendarFeed, ServiceDay
from events.services.calendar import calendar_feed_get_or_create
from tests.factories import VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("date", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_an_activity_far_in_the_past_or_future_is_refused(client, station, station_manager, date):
    client.force_login(station_manager)
    response = client.post(
        reverse("events:activity_create"),
        {
            "title": "走访",
            "kind": "holiday_visit",
            "date": date,
            "start_time": "00:00",
            "end_time": "01:00",
            "station": station.pk,
            "organizer": "建设街道分站",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Enter a date from 2000 to 2099." in response.content.decode()
    assert not Activity.objects.exists()


def test_a_service_day_in_year_9999_is_refused(client, center_manager):
    client.force_login(center_manager)
    response = client.post(
        reverse("events:day_add"), {"date": "9999-12-31"}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert response.status_code == 200
    assert not ServiceDay.objects.filter(date__year=9999).exists()


def test_the_admin_refuses_lookups_on_the_calendar_token(client, center_manager):
    feed = calendar_feed_get_or_create(VolunteerFactory())
    center_manager.is_staff = center_manager.is_superuser = True
    center_manager.save()
    client.force_login(center_manager)
    url = reverse("admin:events_calendarfeed_changelist")
    assert client.get(url).status_code == 200
    for lookup in ("token__startswith", "token__regex", "token__gte", "token"):
        response = client.get(url, {lookup: feed.token[:3]})
        assert response.status_code == 400, lookup
    assert CalendarFeed.objects.count() == 1
