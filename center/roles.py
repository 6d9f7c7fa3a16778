"""Roles and the one helper that scopes every queryset to what a user may see.

Later apps call ``station_ids_for(user)`` / ``scope_by_station(qs, user, path)``
instead of writing their own rules, so that a station manager never sees
another station's data, whatever the page.
"""

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from .models import Role, Station

ALL = None  # sentinel: no restriction

STAFF_ROLES = frozenset({Role.OPERATOR, Role.STATION_MANAGER, Role.CENTER_MANAGER})


def station_ids_for(user) -> frozenset[int] | None:
    """Station ids the user may see: ``None`` means every station.

    Center managers and hotline operators work city-wide (operators dispatch
    across stations). A station manager sees the stations assigned to them and
    the stations under those, two levels deep (the tree is center → branch →
    service point), so any manager sees their whole subtree.
    Anyone else sees no station: volunteers and merchants (PROVIDER_ROLES)
    reach only what is theirs, the orders they hold or are offered, through
    their provider rows (requests.selectors.my_providers), never a station's
    lists. Cached on the user object for the request.
    """
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_center_manager or user.role == Role.OPERATOR:
        return ALL
    if user.role != Role.STATION_MANAGER:
        return frozenset()
    cached = getattr(user, "_lianxin_station_ids", None)
    if cached is None:
        own = Station.objects.filter(managers=user).values("pk")
        cached = frozenset(
            Station.objects.filter(
                Q(pk__in=own) | Q(parent__in=own) | Q(parent__parent__in=own)
            ).values_list("pk", flat=True)
        )
        user._lianxin_station_ids = cached
    return cached


def scope_by_station(qs: QuerySet, user, path: str = "station") -> QuerySet:
    """Filter ``qs`` to rows whose ``path`` (a station FK lookup) the user may see."""
    ids = station_ids_for(user)
    if ids is ALL:
        return qs
    if path == "pk":
        return qs.filter(pk__in=ids)
    return qs.filter(**{f"{path}__in": ids})


def has_role(user, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_center_manager:
        return Role.CENTER_MANAGER in roles or not roles
    return user.role in roles


# Who sees which menu entry and home card (center.registry): role checks on
# the user, no query. The pages enforce access again.


def is_staff_role(user) -> bool:
    """Operators, station managers, center managers: the dashboards."""
    return has_role(user, *STAFF_ROLES)


def is_manager(user) -> bool:
    return has_role(user, Role.STATION_MANAGER, Role.CENTER_MANAGER)


def is_center_manager(user) -> bool:
    return has_role(user, Role.CENTER_MANAGER)


# Who may browse the service catalogue: the page, its menu entry and its card.
CATALOGUE_ROLES = (*STAFF_ROLES, Role.VOLUNTEER)


def is_catalogue_reader(user) -> bool:
    return has_role(user, *CATALOGUE_ROLES)


def is_volunteer(user) -> bool:
    return has_role(user, Role.VOLUNTEER)


def is_provider(user) -> bool:
    """Volunteers and merchants: the orders they hold or are offered."""
    return has_role(user, Role.VOLUNTEER, Role.MERCHANT)


def require_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied


class RoleRequiredMixin(AccessMixin):
    """Anonymous users go to the login page; a logged-in user without one of
    ``allowed_roles`` gets 403."""

    allowed_roles: tuple[str, ...] = tuple(STAFF_ROLES)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, *self.allowed_roles):
            raise PermissionDenied
        self.load(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def load(self, **kwargs) -> None:
        """Fetch what the page works on (``self.instance``, ``self.order``…)
        through the app's ``get_<thing>_for_user`` selector, which 404s for
        what this user may not see. Runs only after the role check passed, so
        an outsider gets 403, never a hint that the row exists."""
