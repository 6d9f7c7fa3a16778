"""Reads: whose volunteer record a login is."""

import pytest
from django.contrib.auth.models import AnonymousUser

from center.models import Role
from tests.factories import MerchantFactory, UserFactory, VolunteerFactory
from volunteers import selectors

pytestmark = pytest.mark.django_db


def test_volunteer_of_finds_the_volunteer_of_a_volunteer_login(station):
    user = UserFactory(role=Role.VOLUNTEER)
    volunteer = VolunteerFactory(station=station, user=user)
    assert selectors.volunteer_of(user) == volunteer


def test_volunteer_of_refuses_a_non_volunteer(
    station, station_manager, center_manager, operator, outsider
):
    # Staff linked to a volunteer record (a manager who also volunteers) still get none:
    # the self-service pages are for volunteer logins.
    VolunteerFactory(station=station, user=station_manager)
    merchant_login = UserFactory(role=Role.MERCHANT)
    MerchantFactory(stations=[station], user=merchant_login)
    for user in (station_manager, center_manager, operator, outsider, merchant_login):
        assert selectors.volunteer_of(user) is None, user
    assert selectors.volunteer_of(AnonymousUser()) is None


def test_volunteer_of_refuses_a_volunteer_login_without_a_record():
    assert selectors.volunteer_of(UserFactory(role=Role.VOLUNTEER)) is None
