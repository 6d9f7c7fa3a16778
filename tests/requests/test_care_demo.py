"""The demo's care part (requests/demo/care.py): pairings, visits, overdue, a rota."""

import random

import pytest
from django.utils import timezone

from center.models import Role
from requests.demo import care as demo
from requests.models import CareSlot, CareVisit, Pairing
from tests.factories import ResidentFactory, ResidentGroupFactory, UserFactory, VolunteerFactory
from volunteers.models import HoursEntry


@pytest.mark.django_db
def test_demo_pairs_special_residents_with_visits_some_overdue_and_runs_once(
    community, station, center_manager
):
    for _ in range(14):
        ResidentGroupFactory(resident=ResidentFactory(community=community))
    ResidentFactory(community=community)  # not special: never paired
    for _ in range(5):
        VolunteerFactory(station=station)
    me = VolunteerFactory(
        station=station, user=UserFactory(username="volunteer", role=Role.VOLUNTEER)
    )
    demo.seed(random.Random(7))
    pairings = Pairing.objects.all()
    assert 10 <= pairings.count() <= 13
    assert not pairings.filter(resident__is_special=False).exists()
    assert pairings.filter(volunteer=me).count() >= 3
    assert pairings.filter(next_visit_due__lt=timezone.localdate()).exists()
    assert pairings.filter(next_visit_due__gte=timezone.localdate()).exists()
    visits = CareVisit.objects.count()
    assert visits > 20
    assert HoursEntry.objects.filter(source="care_visit").count() == visits
    assert CareSlot.objects.count() == 18 and CareSlot.objects.filter(volunteer=me).exists()
    demo.seed(random.Random(7))
    assert CareVisit.objects.count() == visits
