"""Reads for the center app, scoped to what the user may see."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from .models import Area, ServiceCategory, ServiceItem, Station
from .roles import scope_by_station


def station_list(*, user) -> QuerySet[Station]:
    return scope_by_station(
        Station.objects.select_related("district", "parent").order_by("code"), user, path="pk"
    )


def get_station_for_user(*, user, pk: int) -> Station:
    try:
        return station_list(user=user).get(pk=pk)
    except Station.DoesNotExist as exc:
        raise Http404 from exc


def station_detail_context(*, station: Station, user) -> dict:
    return {
        "communities": list(station.communities.select_related("parent__parent").order_by("code")),
        "children": list(station_list(user=user).filter(parent=station)),
        "managers": list(station.managers.order_by("full_name")),
    }


def category_list() -> QuerySet[ServiceCategory]:
    """Categories with the number of active items each (one query)."""
    return ServiceCategory.objects.order_by("sort_order", "code").annotate(
        item_count=Count("items", filter=Q(items__is_active=True))
    )


def service_item_list() -> QuerySet[ServiceItem]:
    return ServiceItem.objects.select_related("category", "specialty").order_by(
        "category__sort_order", "code"
    )


def districts() -> QuerySet[Area]:
    return Area.objects.filter(level=Area.Level.DISTRICT).order_by("code")
