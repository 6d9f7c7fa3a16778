"""Distances and travel times between points given as latitude/longitude (degrees).

- ``distance_km``: the great-circle (haversine) distance in kilometres between
  two points, in Python; ``None`` when a coordinate is missing. For comparing
  one pair (a test, a map link), not for ranking many rows.
- ``travel_minutes``: kilometres → whole minutes at the straight-line speed
  ``settings.LIANXIN["DISPATCH_SPEED_KMH"]``, at least one minute.
- ``PlanarKm``: an ORM expression, the kilometres from one point to each row's
  ``latitude``/``longitude`` columns, computed in the database so a ranking
  can sort and filter on it.
- ``planar_km_sql``: the same distance as SQL text and parameters, for
  hand-written queries (the volunteer ranking in ``requests.dispatch``).
- ``degree_box``: the bounding box of a radius, in degrees, for a range
  filter an index on (latitude, longitude) serves before the exact distance.

Why planar is fine: within a city (tens of kilometres) the equirectangular
distance — SQRT(Δlat² + (Δlng·cos lat)²) · 111.32 km per degree — is exact to
well under 1% against the great circle, and it is plain arithmetic that any
SQL database evaluates (no PostGIS needed). The cosine is floored at 0.1 so
the formula stays finite near the poles, where nobody is dispatched anyway.

This module knows nothing of volunteers, orders or events: it takes numbers
and column names, so every app can use it.
"""

import math

from django.conf import settings
from django.db.models import F, FloatField, Func

KM_PER_DEGREE = 111.32  # kilometres per degree of latitude (and of longitude at the equator)
EARTH_RADIUS_KM = 6371.0
MIN_COS = 0.1  # floor of cos(latitude): finite boxes and distances at any latitude


def cos_lat(lat: float) -> float:
    """cos(latitude), floored at ``MIN_COS``: how much shorter a degree of
    longitude is than one of latitude there."""
    return max(math.cos(math.radians(lat)), MIN_COS)


def degree_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lng_min, lng_max) of the square that holds the
    ``radius_km`` circle around the point, in degrees."""
    dlat = radius_km / KM_PER_DEGREE
    dlng = radius_km / (KM_PER_DEGREE * cos_lat(lat))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def distance_km(lat1, lng1, lat2, lng2) -> float | None:
    """Great-circle distance in km between two points (degrees; numbers,
    Decimals or strings); ``None`` if any coordinate is missing."""
    if None in (lat1, lng1, lat2, lng2):
        return None
    lat1, lng1, lat2, lng2 = (math.radians(float(v)) for v in (lat1, lng1, lat2, lng2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return EARTH_RADIUS_KM * 2 * math.asin(math.sqrt(a))


def travel_minutes(km: float | None) -> int | None:
    """Whole minutes to cover ``km`` at ``DISPATCH_SPEED_KMH`` (at least 1);
    ``None`` for an unknown distance."""
    if km is None:
        return None
    return max(1, round(km / settings.LIANXIN["DISPATCH_SPEED_KMH"] * 60))


def planar_km_sql(
    lat: float,
    lng: float,
    lat_sql: str = "latitude",
    lng_sql: str = "longitude",
    lat_params=(),
    lng_params=(),
) -> tuple[str, list]:
    """The SQL (and its parameters) of the equirectangular kilometres from
    (``lat``, ``lng``) to the columns ``lat_sql``/``lng_sql``:
    SQRT(Δlat² + Δlng²·cos²lat) · 111.32. Hand-written ranking SQL and
    ``PlanarKm`` both use it, so the distance is one formula."""
    cos = cos_lat(lat)
    sql = (
        f"(SQRT(((({lat_sql} - %s) * ({lat_sql} - %s)) "
        f"+ ((({lng_sql} - %s) * ({lng_sql} - %s)) * %s))) * %s)"
    )
    params = [*lat_params, lat, *lat_params, lat, *lng_params, lng, *lng_params, lng]
    return sql, [*params, cos * cos, KM_PER_DEGREE]


class PlanarKm(Func):
    """Kilometres from a point to the row's ``latitude``/``longitude``
    (``planar_km_sql``) as one ORM node, to annotate, filter and sort on. One
    node rather than a tree of ``F``/``Value`` arithmetic: a ranking builds,
    copies and compiles it six times, and the tree was a third of the
    ranking's Python time (docs/performance.md)."""

    output_field = FloatField()

    def __init__(self, lat: float, lng: float):
        super().__init__(F("latitude"), F("longitude"))
        self.origin = (lat, lng)

    def as_sql(self, compiler, connection, **extra_context):
        (la, la_params), (lo, lo_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        sql, params = planar_km_sql(*self.origin, la, lo, la_params, lo_params)
        return sql, tuple(params)
