"""The demo's events part (events/demo/seed.py): a year of past service days
with attendance and hours, and the next one open for sign-up."""

import random

import pytest
from django.utils import timezone

from center.models import Role
from events.demo import seed as demo
from events.models import ServiceDay, Shift, SignUp, Venue
from tests.factories import UserFactory, VolunteerFactory
from volunteers.models import HoursEntry


@pytest.mark.django_db
def test_demo_has_a_year_of_days_with_attendance_and_the_next_open(station):
    for _ in range(6):
        VolunteerFactory(station=station)
    me = VolunteerFactory(
        station=station, user=UserFactory(username="volunteer", role=Role.VOLUNTEER)
    )
    demo.seed(random.Random(3))
    today = timezone.localdate()
    past = ServiceDay.objects.filter(date__lt=today, venues__isnull=False).distinct()
    assert 11 <= past.count() <= 12
    assert all(d.date.weekday() == 5 for d in past)
    attended = SignUp.objects.filter(checked_out_at__isnull=False)
    assert attended.exists()
    assert HoursEntry.objects.filter(source="service_day").count() == attended.count()
    # Every shift's counter agrees with its confirmed sign-ups.
    for shift in Shift.objects.all():
        assert shift.taken == shift.signups.filter(status="confirmed").count()
    upcoming = ServiceDay.objects.filter(date__gte=today, venues__isnull=False).distinct()
    assert upcoming.count() == 1
    mine = SignUp.objects.get(volunteer=me)
    assert mine.shift.stall.venue.day == upcoming.get() and mine.checked_in_at is None
    venues = Venue.objects.count()
    demo.seed(random.Random(3))
    assert Venue.objects.count() == venues
