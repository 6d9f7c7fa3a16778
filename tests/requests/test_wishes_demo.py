"""The demo's wall of wishes (requests/demo/wishes.py): every state, through the services."""

import random

import pytest

from requests.demo import wishes as demo
from requests.models import MicroWish, WishAdoption
from tests.factories import OrganizationFactory, ResidentFactory, VolunteerFactory


@pytest.mark.django_db
def test_demo_wall_has_wishes_in_every_state_and_runs_once(community, station, center_manager):
    for _ in range(10):
        ResidentFactory(community=community)
    for _ in range(10):
        VolunteerFactory(station=station)
    OrganizationFactory()
    demo.seed(random.Random(7))
    states = set(MicroWish.objects.values_list("status", flat=True))
    assert states == set(MicroWish.Status.values)
    assert MicroWish.objects.filter(priority=True, round=2).exists()
    assert WishAdoption.objects.filter(organization__isnull=False).exists()
    assert MicroWish.objects.filter(status="published", shares_taken__gt=0).exists()
    count = MicroWish.objects.count()
    demo.seed(random.Random(7))
    assert MicroWish.objects.count() == count
