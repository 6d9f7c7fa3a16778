"""Reads of the special-group registry, scoped by ``requests.selectors.resident_list``.

Who sees what (docs/privacy.md): every staff member sees the special-group
mark and the names of non-sensitive groups; a membership of a sensitive group
(disability) shows as a generic 特殊群体 badge. Health notes, disability
facts and the ID number are shown only to managers (center managers, and the
station managers whose stations serve the resident), on a logged tap.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from center.roles import is_manager, scope_by_station

from ..models import (
    CareVisit,
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


def may_reveal(user) -> bool:
    """Managers may see a resident's sensitive data (in their scope: the
    resident comes from ``get_resident_for_user``); operators may not."""
    return is_manager(user)


def may_edit_registry(user) -> bool:
    """Memberships, consents and sensitive data are recorded by managers."""
    return is_manager(user)


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


def registry_list(*, user) -> QuerySet[Resident]:
    """The residents list: ``resident_list``'s scope with what a row shows
    (community, phones, groups, whether paired). Three queries a page
    whatever its size: the rows (with the paired flag), their phones, their
    memberships."""
    from . import resident_list

    return (
        resident_list(user=user)
        .select_related("community")
        .annotate(is_paired=paired_q())
        .prefetch_related(
            Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk")),
            memberships_prefetch(),
        )
        .order_by("-id")
    )


def with_badges(residents) -> list[Resident]:
    for r in residents:
        r.badges = badges(r.groups.all())
    return residents


def export_rows(queryset: QuerySet[Resident], limit: int) -> list[Resident]:
    """The rows of an export (``services.residents.residents_export``): the
    registry's columns and the sensitive row, at most ``limit``."""
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
        "pairings": list(
            Pairing.objects.filter(resident=resident)
            .select_related("volunteer")
            .order_by("ended_on", "next_visit_due")[:20]
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
        "may_reveal": may_reveal(user),
        "may_edit_registry": may_edit_registry(user),
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
