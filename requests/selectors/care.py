"""Reads of the care pages: pairings, visits and rota slots, scoped through
the resident scope (``requests.selectors.resident_list``) for staff, and to
their own pairings and slots for a volunteer. Every list is one query for its
rows plus a fixed number of prefetches, whatever its length."""

import datetime

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.fields.json import KeyTextTransform
from django.http import Http404
from django.utils import timezone

from center.models import AuditEntry, Station
from center.roles import ALL, is_staff_role, station_ids_for
from volunteers.models import Volunteer

from ..models import (
    CareSlot,
    CareVisit,
    MicroWish,
    Pairing,
    Resident,
    ResidentContact,
    ResidentPhone,
    ServiceRequest,
)
from . import resident_list
from .residents import badges, memberships_prefetch

# The audit actions that record what a visit's need became (services.care).
NEED_ORDERED = "requests.visit.need_ordered"
NEED_WISHED = "requests.visit.need_wished"


def _in_scope(qs: QuerySet, user, path: str = "resident") -> QuerySet:
    """Rows whose resident ``user`` may see; the city for operators and center
    managers (no subquery at all)."""
    if station_ids_for(user) is ALL:
        return qs
    return qs.filter(**{f"{path}__in": resident_list(user=user).values("pk")})


def _active_pairings() -> Prefetch:
    return Prefetch(
        "pairings",
        queryset=Pairing.objects.filter(ended_on__isnull=True)
        .select_related("volunteer")
        .order_by("next_visit_due", "pk"),
        to_attr="active_pairings",
    )


# --- Who may be named on a pairing or a visit -------------------------------------------


def nameable_volunteers(*, user, resident: Resident | None = None) -> QuerySet[Volunteer]:
    """The volunteers ``user`` may name: city-wide staff (operators, center
    managers) and the system (``user`` None) anyone; a station manager the
    volunteers of their stations and, for a visit of ``resident``, also one
    paired with the resident or holding an undone rota slot for them; anyone
    else only their own record. The one statement of the rule: the forms look
    a number or mobile up here, ``services.care`` refuses the rest."""
    qs = Volunteer.objects.all()
    if user is None:
        return qs
    if not is_staff_role(user):
        return qs.filter(user=user) if user.is_authenticated else qs.none()
    ids = station_ids_for(user)
    if ids is ALL:
        return qs
    rule = Q(station_id__in=ids)
    if resident is not None:
        rule |= Q(
            Exists(
                Pairing.objects.filter(
                    resident=resident, volunteer=OuterRef("pk"), ended_on__isnull=True
                )
            )
        ) | Q(
            Exists(
                CareSlot.objects.filter(
                    resident=resident, volunteer=OuterRef("pk"), visit__isnull=True
                )
            )
        )
    return qs.filter(rule)


# --- Staff lists -------------------------------------------------------------------


def overdue_pairings(*, user, today: datetime.date | None = None) -> QuerySet[Pairing]:
    """Active pairings whose next visit is past due, most overdue first
    (partial index ``pairing_due``), with the resident and the member."""
    today = today or timezone.localdate()
    return (
        _in_scope(Pairing.objects.filter(ended_on__isnull=True, next_visit_due__lt=today), user)
        .select_related("resident__community", "volunteer")
        .order_by("next_visit_due", "pk")
    )


def silent_since(now: datetime.datetime | None = None) -> datetime.datetime:
    now = now or timezone.now()
    return now - datetime.timedelta(days=settings.LIANXIN["CARE_SILENT_DAYS"])


def silent_residents(*, user, now: datetime.datetime | None = None) -> QuerySet[Resident]:
    """Special-group residents with no visit, call or order for
    ``CARE_SILENT_DAYS`` (or never): never contacted first, then the longest
    silent (partial index ``resident_special_contact``). Each carries its
    phones (masked on the page) and its active pairings: two prefetches."""
    return (
        resident_list(user=user)
        .filter(is_special=True)
        .filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=silent_since(now)))
        .select_related("community")
        .prefetch_related(
            Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk")),
            _active_pairings(),
        )
        .order_by(F("last_contact_at").asc(nulls_first=True), "pk")
    )


# --- One resident's care (staff) -----------------------------------------------------


def get_pairing_for_user(*, user, pk: int) -> Pairing:
    try:
        return (
            _in_scope(Pairing.objects.all(), user)
            .select_related("resident__community", "volunteer")
            .get(pk=pk)
        )
    except (Pairing.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def resident_care(*, resident: Resident, visits: int = 20) -> dict:
    """A resident's pairings (active first), latest visits and upcoming or
    open rota slots: three queries."""
    today = timezone.localdate()
    return {
        "pairings": list(
            Pairing.objects.filter(resident=resident)
            .select_related("volunteer")
            .order_by(F("ended_on").desc(nulls_first=True), "next_visit_due", "-pk")[:50]
        ),
        "visits": list(
            CareVisit.objects.filter(resident=resident)
            .select_related("volunteer")
            .order_by("-visited_on", "-pk")[:visits]
        ),
        "slots": list(
            CareSlot.objects.filter(resident=resident, due_on__gte=today - datetime.timedelta(30))
            .select_related("volunteer")
            .order_by("due_on")[:60]
        ),
    }


# --- Visits: staff in scope, or the volunteer who visited ------------------------------


def visit_outcome(*, visit: CareVisit) -> dict:
    """What the visit's need became: ``order`` and ``wish`` (None when not
    yet). The audit entries ``need_ordered`` / ``need_wished`` are the record
    (one of each per visit, found through the audit target index); the order
    by its unique number, the wish by its pk: one query, one more for each
    that exists, whatever the history."""
    entries = list(
        AuditEntry.objects.filter(
            target_type=CareVisit._meta.label_lower,
            target_id=str(visit.pk),
            action__in=(NEED_ORDERED, NEED_WISHED),
        )
        .annotate(
            order_number=KeyTextTransform("order", "data"),
            wish_pk=KeyTextTransform("wish", "data"),
        )
        .values_list("action", "order_number", "wish_pk")[:10]
    )
    number = next((n for a, n, _w in entries if a == NEED_ORDERED and n), None)
    wish_pk = next((w for a, _n, w in entries if a == NEED_WISHED and w), None)
    return {
        "order": ServiceRequest.objects.only("pk", "number", "status").filter(number=number).first()
        if number
        else None,
        "wish": MicroWish.objects.only("pk", "title", "status").filter(pk=wish_pk).first()
        if wish_pk and wish_pk.isdigit()
        else None,
    }


def get_visit_for_user(*, user, pk: int) -> CareVisit:
    """A visit staff may see (its resident in scope), or one the volunteer
    ``user`` made; 404 otherwise."""
    qs = CareVisit.objects.select_related("resident__community", "volunteer", "pairing")
    if is_staff_role(user):
        qs = _in_scope(qs, user)
    else:
        qs = qs.filter(volunteer__user=user) if user.is_authenticated else qs.none()
    try:
        return qs.get(pk=pk)
    except (CareVisit.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


# --- The volunteer's side ---------------------------------------------------------------


def my_pairings(*, volunteer: Volunteer) -> list[Pairing]:
    """The member's residents, most overdue first (index ``pairing_volunteer_due``)."""
    return list(
        Pairing.objects.filter(volunteer=volunteer, ended_on__isnull=True)
        .select_related("resident__community")
        .order_by("next_visit_due", "pk")[:100]
    )


def my_slots(*, volunteer: Volunteer) -> list[CareSlot]:
    """Rota visits the member holds and has not done yet (index ``careslot_volunteer``)."""
    since = timezone.localdate() - datetime.timedelta(days=30)
    return list(
        CareSlot.objects.filter(volunteer=volunteer, visit__isnull=True, due_on__gte=since)
        .select_related("resident__community")
        .order_by("due_on", "pk")[:50]
    )


def _near(volunteer: Volunteer) -> Q:
    """Residents of the communities the member's home station serves."""
    served = Station.communities.through.objects.filter(
        station_id=volunteer.station_id, area_id=OuterRef("resident__community_id")
    )
    return Q(Exists(served))


def open_slots_near(*, volunteer: Volunteer, limit: int = 20) -> list[CareSlot]:
    """Open rota visits from today on, of residents of the communities the
    member's station serves, soonest first (partial index ``careslot_open``)."""
    return list(
        CareSlot.objects.filter(
            volunteer__isnull=True, visit__isnull=True, due_on__gte=timezone.localdate()
        )
        .filter(_near(volunteer))
        .select_related("resident__community")
        .order_by("due_on", "pk")[:limit]
    )


def get_open_slot_near(*, volunteer: Volunteer, pk: int) -> CareSlot:
    """A slot the member may take (near them; taken or not, the service
    decides who wins) or release (theirs); 404 otherwise."""
    try:
        return CareSlot.objects.filter(Q(volunteer=volunteer) | _near(volunteer)).get(pk=pk)
    except (CareSlot.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def get_my_resident(*, volunteer: Volunteer, pk: int) -> tuple[Resident, Pairing | None]:
    """A resident the member is paired with (and the pairing), or holds an
    undone rota slot for (pairing None); 404 for anyone else's resident."""
    pairing = (
        Pairing.objects.filter(volunteer=volunteer, resident_id=pk, ended_on__isnull=True)
        .select_related("resident__community")
        .first()
    )
    if pairing is not None:
        return pairing.resident, pairing
    slot = (
        CareSlot.objects.filter(volunteer=volunteer, resident_id=pk, visit__isnull=True)
        .select_related("resident__community")
        .first()
    )
    if slot is None:
        raise Http404
    return slot.resident, None


def visit_page_resident(*, resident: Resident, numbers: bool = True) -> Resident:
    """The resident as the volunteer's visit page shows them: ``badges``
    (special groups; a sensitive membership is the generic badge) and, with
    ``numbers``, ``phone_list`` and ``contact_list`` (emergency contacts in
    call order). One query each, however many rows."""
    lookups = [memberships_prefetch(to_attr="membership_list")]
    if numbers:
        lookups += [
            Prefetch("phones", queryset=ResidentPhone.objects.order_by("pk"), to_attr="phone_list"),
            Prefetch(
                "contacts",
                queryset=ResidentContact.objects.order_by("priority", "pk"),
                to_attr="contact_list",
            ),
        ]
    prefetch_related_objects([resident], *lookups)
    resident.badges = badges(resident.membership_list)
    if not numbers:
        resident.phone_list, resident.contact_list = [], []
    return resident


def my_slots_for(*, volunteer: Volunteer, resident: Resident) -> list[CareSlot]:
    return list(
        CareSlot.objects.filter(
            volunteer=volunteer, resident=resident, visit__isnull=True
        ).order_by("due_on")[:10]
    )


def get_slot_for_user(*, user, pk: int) -> CareSlot:
    """A rota slot of a resident staff may see; 404 otherwise."""
    try:
        return _in_scope(CareSlot.objects.all(), user).select_related("resident").get(pk=pk)
    except (CareSlot.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc
