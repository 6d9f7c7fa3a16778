"""Reads of the special-group registry, scoped by ``requests.selectors.resident_list``.

Who sees what (docs/privacy.md): every staff member sees the special-group
mark and the names of non-sensitive groups; a membership of a sensitive group
(disability) shows as a generic 特殊群体 badge. Health notes, disability
facts and the ID number are shown only to managers (center managers, and the
station managers whose stations serve the resident), on a logged tap.

Two scopes. ``resident_list`` (the list, the resident page, orders): a
station manager also sees a resident with an order routed to one of their
stations. ``registry_scope`` (every sensitive read and every registry write:
reveal, export, the sensitive, group, consent, contact and resident edits):
only residents of the communities their stations serve. A manager who sees a
resident through an order alone may read the ordinary page, nothing more.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.models import Area, Station
from center.roles import ALL, is_manager, scope_by_station, station_ids_for

from ..models import (
    CareVisit,
    ConsentScope,
    MicroWish,
    Pairing,
    Resident,
    ResidentConsent,
    ResidentContact,
    ResidentGroup,
    ResidentImport,
    ResidentPhone,
    ResidentSensitive,
    ServiceRequest,
)

SPECIAL_BADGE = _("Special group")
HIDDEN = _("Sensitive information, hidden")


def registry_scope(*, user) -> QuerySet[Resident]:
    """Residents whose registry data the user may read in full or change:
    the whole city for center managers and operators (operators never get
    the sensitive data: ``may_reveal``), the residents of the communities
    their stations serve for a station manager (docs/privacy.md), nothing
    for anyone else. Not the residents they see only through an order."""
    ids = station_ids_for(user)
    qs = Resident.objects.all()
    if ids is ALL:
        return qs
    served = Station.communities.through.objects.filter(
        station_id__in=ids, area_id=OuterRef("community_id")
    )
    return qs.filter(Exists(served))


def registry_communities(*, user) -> QuerySet[Area]:
    """The communities a user's residents live in, for a community picker:
    every community for city-wide users (operators, center managers), the
    communities their stations serve for a station manager (no duplicates:
    a subquery, not a join), none for anyone else."""
    qs = Area.objects.filter(level=Area.Level.COMMUNITY).order_by("code")
    ids = station_ids_for(user) if user is not None else frozenset()
    if ids is ALL:
        return qs
    served = Station.communities.through.objects.filter(station_id__in=ids).values("area_id")
    return qs.filter(pk__in=served)


def serves_resident(user, resident: Resident) -> bool:
    """Whether ``resident`` is in the user's ``registry_scope`` (no query for
    city-wide users)."""
    if station_ids_for(user) is ALL:
        return True
    return registry_scope(user=user).filter(pk=resident.pk).exists()


def get_resident_for_registry(*, user, pk: int) -> Resident:
    """A resident of the user's ``registry_scope``, else 404: the object of
    every sensitive read and registry write."""
    try:
        return registry_scope(user=user).select_related("community").get(pk=pk)
    except (Resident.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def may_reveal(user, resident: Resident | None = None) -> bool:
    """Managers may see a resident's sensitive data, for a resident of their
    ``registry_scope`` (given ``resident``, checked here); operators may not."""
    if not is_manager(user):
        return False
    return resident is None or serves_resident(user, resident)


def may_edit_registry(user, resident: Resident | None = None) -> bool:
    """Memberships, consents and sensitive data are recorded by managers, for
    a resident of their ``registry_scope`` (given ``resident``)."""
    if not is_manager(user):
        return False
    return resident is None or serves_resident(user, resident)


@dataclass(frozen=True)
class Badge:
    label: str
    sensitive: bool = False


def badges(memberships) -> list[Badge]:
    """What a list, the console or an alert shows of a resident's groups:
    non-sensitive group names, and one generic badge for any sensitive
    membership (its name is health data). ``memberships`` carry ``group``."""
    out, generic = [], False
    for m in memberships:
        if m.group.is_sensitive:
            generic = True
        else:
            out.append(Badge(m.group.name))
    if generic:
        out.append(Badge(str(SPECIAL_BADGE), sensitive=True))
    return out


def memberships_prefetch(to_attr: str | None = None) -> Prefetch:
    """A resident's memberships with their group, in the groups' order: one query."""
    return Prefetch(
        "groups",
        queryset=ResidentGroup.objects.select_related("group").order_by("group__order", "pk"),
        to_attr=to_attr,
    )


def paired_q():
    return Exists(Pairing.objects.filter(resident_id=OuterRef("pk"), ended_on__isnull=True))


def _listed(qs: QuerySet[Resident]) -> QuerySet[Resident]:
    return (
        # The street too: several communities share a name (新民社区 ×4).
        qs.select_related("community__parent")
        .annotate(is_paired=paired_q())
        .prefetch_related(
            Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk")),
            memberships_prefetch(),
        )
        .order_by("-id")
    )


def registry_list(*, user) -> QuerySet[Resident]:
    """The residents list: ``resident_list``'s scope with what a row shows
    (community, phones, groups, whether paired). Three queries a page
    whatever its size: the rows (with the paired flag), their phones, their
    memberships."""
    from . import resident_list

    return _listed(resident_list(user=user))


def export_list(*, user) -> QuerySet[Resident]:
    """What an export may hold: the list's rows in the user's
    ``registry_scope`` (a resident seen through an order alone is not exported)."""
    return _listed(registry_scope(user=user))


def with_badges(residents) -> list[Resident]:
    for r in residents:
        r.badges = badges(r.groups.all())
    return residents


def export_rows(queryset: QuerySet[Resident], limit: int) -> list[Resident]:
    """The rows of an export (``services.residents.residents_export``): the
    registry's columns and the sensitive row, at most ``limit``. ``queryset``
    comes from ``export_list``."""
    rows = list(
        queryset.prefetch_related(None)
        .prefetch_related(
            Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk")),
            memberships_prefetch(),
        )
        .select_related("community")[:limit]
    )
    sensitive = ResidentSensitive.objects.in_bulk([r.pk for r in rows], field_name="resident_id")
    for r in rows:
        r.sensitive_row = sensitive.get(r.pk)
    return rows


def get_resident_for_user(*, user, pk: int) -> Resident:
    from . import get_resident_for_user as get

    return get(user=user, pk=pk)


@dataclass(frozen=True)
class ConsentState:
    scope: str
    label: str
    in_force: bool


def consented_scopes(resident: Resident) -> set[str]:
    """The scopes covered by the resident's consents in force (union): one query."""
    scopes: set[str] = set()
    for scope in ResidentConsent.objects.filter(
        resident=resident, withdrawn_at__isnull=True
    ).values_list("scope", flat=True):
        scopes.update(scope or [])
    return scopes


def consent_states(resident: Resident, scopes=None) -> list[ConsentState]:
    """For each of ``scopes`` (every scope by default), whether a consent in
    force covers it: what a form that saves sensitive data shows up front
    (the services refuse the save otherwise: ``require_consent``). One query."""
    held = consented_scopes(resident)
    return [
        ConsentState(s, str(ConsentScope(s).label), s in held)
        for s in (scopes or ConsentScope.values)
    ]


def mark_overdue(pairings, today=None) -> list[Pairing]:
    """Set ``days_overdue`` on each pairing (0 unless active and past its
    next visit), as the care pages count it: no query."""
    today = today or timezone.localdate()
    for p in pairings:
        late = p.is_active and p.next_visit_due and p.next_visit_due < today
        p.days_overdue = (today - p.next_visit_due).days if late else 0
    return pairings


def resident_detail_context(*, user, resident: Resident) -> dict:
    """Everything the resident page shows, each list bounded: memberships,
    contacts in call order, phones, devices, consent history, whether
    sensitive data is held (not the data: that is a logged tap), pairings,
    recent visits, wishes and orders."""
    memberships = list(
        ResidentGroup.objects.filter(resident=resident)
        .select_related("group", "verified_by")
        .order_by("group__order", "pk")
    )
    sensitive = ResidentSensitive.objects.filter(resident=resident).first()
    in_scope = serves_resident(user, resident)  # the registry scope: one query, or none
    serves = in_scope and is_manager(user)
    consents = list(
        ResidentConsent.objects.filter(resident=resident)
        .select_related("taken_by", "withdrawn_by")
        .order_by("-given_on", "-id")[:50]
    )
    return {
        "memberships": memberships,
        "badges": badges(memberships),
        "has_sensitive_group": any(m.group.is_sensitive for m in memberships),
        "phones": list(resident.phones.order_by("pk")),
        "contacts": list(
            ResidentContact.objects.filter(resident=resident).order_by("priority", "id")
        ),
        "devices": list(resident.devices.all()[:5]),
        "consents": consents,
        "scopes_in_force": sorted({s for c in consents if c.in_force for s in c.scope}),
        "sensitive": sensitive,
        "has_sensitive_data": bool(sensitive and (sensitive.id_number or sensitive.health_notes))
        or any(m.disability_category or m.disability_level for m in memberships),
        "pairings": mark_overdue(
            list(
                Pairing.objects.filter(resident=resident)
                .select_related("volunteer")
                .order_by("ended_on", "next_visit_due")[:20]
            )
        ),
        "visits": list(
            CareVisit.objects.filter(resident=resident)
            .select_related("volunteer")
            .order_by("-visited_on", "-id")[:10]
        ),
        "wishes": list(MicroWish.objects.filter(resident=resident).order_by("-id")[:10]),
        "orders": list(
            scope_by_station(ServiceRequest.objects.filter(resident=resident), user)
            .select_related("item")
            .only("number", "received_at", "status", "resident", "item__name")
            .order_by("-received_at")[:10]
        ),
        "may_reveal": serves,
        "may_edit_registry": serves,
        # Resident and contact edits: everyday work, in the registry scope.
        "may_edit": in_scope,
    }


def get_membership(*, resident: Resident, pk: int) -> ResidentGroup:
    try:
        return ResidentGroup.objects.select_related("group").get(resident=resident, pk=pk)
    except (ResidentGroup.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def get_contact(*, resident: Resident, pk: int) -> ResidentContact:
    try:
        return ResidentContact.objects.get(resident=resident, pk=pk)
    except (ResidentContact.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def get_consent(*, resident: Resident, pk: int) -> ResidentConsent:
    try:
        return ResidentConsent.objects.get(resident=resident, pk=pk)
    except (ResidentConsent.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def import_batches_for(*, user) -> QuerySet[ResidentImport]:
    """A center manager sees every resident import; a station manager their own."""
    qs = ResidentImport.objects.all()
    if user.is_center_manager:
        return qs
    return qs.filter(created_by=user)
