import pytest

pytestmark = pytest.mark.django_db


def test_planar_distance_matches_the_great_circle_at_city_scale(station, settings):
    """The ranking sorts on ``PlanarKm`` (center.geo): within Jiaxing's box it
    agrees with the great-circle distance to well under 1%, and the minutes
    shown come from the same kilometres."""
    from center.geo import PlanarKm, distance_km, travel_minutes
    from center.models import Station

    origin = (30.752, 120.758)  # the center
    for lat, lng in [(30.76, 120.76), (30.60, 120.50), (30.95, 121.10), (30.70, 121.00)]:
        Station.objects.filter(pk=station.pk).update(latitude=lat, longitude=lng)
        planar = Station.objects.annotate(km=PlanarKm(*origin)).get(pk=station.pk).km
        great_circle = distance_km(*origin, lat, lng)
        assert abs(planar - great_circle) / great_circle < 0.01, (lat, lng)
    settings.LIANXIN = {**settings.LIANXIN, "DISPATCH_SPEED_KMH": 15}
    assert [travel_minutes(km) for km in (None, 0.0, 1.0, 2.6)] == [None, 1, 4, 10]
