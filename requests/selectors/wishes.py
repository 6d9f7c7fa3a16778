"""Reads of micro-wishes: the public wall (masked, built as ``PublicWish``
values so a template cannot reach the resident), the staff lists scoped to the
user's stations, and a volunteer's own adoptions."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from center.masking import mask_mobile, mask_name
from center.models import Area, Role
from center.roles import has_role, scope_by_station
from volunteers.models import Volunteer
from volunteers.selectors import eligible_q, provider_can_serve, volunteer_of

from ..models import MicroWish, WishAdoption

S = MicroWish.Status
DONE = (S.ADOPTED, S.CONTACTED, S.FULFILLED, S.CONFIRMED)
# The wall's columns: the resident's name only (masked here), never the rest.
PUBLIC_COLUMNS = (
    "title",
    "description",
    "kind",
    "estimated_cost",
    "shares",
    "shares_taken",
    "pledged_total",
    "deadline",
    "status",
    "round",
    "priority",
    "photo",
    "photo_publishable",
    "resident__name",
    "community__name",
    "district__name",
)


@dataclass(frozen=True)
class PublicWish:
    """What anyone may see of a wish: the family as ``张**``, the district and
    community, what is wished. No phone, no address, no health data; the photo
    only when staff marked it publishable."""

    pk: int
    title: str
    description: str
    kind: str
    kind_label: str
    who: str  # 张**
    district: str
    community: str
    status: str
    badge: str  # "" while it waits, else 已认领 / 已实现
    estimated_cost: Decimal
    shares: int
    shares_left: int
    pledged_total: Decimal
    deadline: datetime.date
    round: int
    priority: bool
    photo_url: str
    can_adopt: bool


def public_wish(wish: MicroWish) -> PublicWish:
    if wish.status in (S.FULFILLED, S.CONFIRMED):
        badge = _("Fulfilled")
    elif wish.status in (S.ADOPTED, S.CONTACTED):
        badge = _("Adopted")
    else:
        badge = ""
    return PublicWish(
        pk=wish.pk,
        title=wish.title,
        description=wish.description,
        kind=wish.kind,
        kind_label=str(MicroWish.Kind(wish.kind).label) if wish.kind in MicroWish.Kind else "",
        who=mask_name(wish.resident.name),
        district=wish.district.name,
        community=wish.community.name,
        status=wish.status,
        badge=badge,
        estimated_cost=wish.estimated_cost,
        shares=wish.shares,
        shares_left=wish.shares_left,
        pledged_total=wish.pledged_total,
        deadline=wish.deadline,
        round=wish.round,
        priority=wish.priority,
        # Through the view that checks again, never the storage's own URL.
        photo_url=reverse("requests:wish_public_photo", args=[wish.pk])
        if wish.photo and wish.photo_publishable
        else "",
        can_adopt=wish.can("adopt"),
    )


def _public_rows(filters: dict) -> QuerySet[MicroWish]:
    return (
        MicroWish.objects.filter(**filters)
        .select_related("resident", "community", "district")
        .only(*PUBLIC_COLUMNS)
    )


def wall_filters(*, district=None, community=None, kind: str = "") -> dict:
    filters = {}
    if district is not None:
        filters["district"] = district
    if community is not None:
        filters["community"] = community
    if kind:
        filters["kind"] = kind
    return filters


def wall_waiting(filters: dict) -> QuerySet[MicroWish]:
    """Published wishes, rolled-over ones first, then the nearest deadline
    (index wish_wall; wish_district / wish_community when filtered)."""
    return _public_rows({**filters, "status": S.PUBLISHED}).order_by("-priority", "deadline", "id")


def wall_done(filters: dict, limit: int = 12) -> list[PublicWish]:
    """The latest adopted and fulfilled wishes (已认领 / 已实现), after the
    waiting ones (partial index wish_recent: DONE is its condition)."""
    rows = _public_rows({**filters, "status__in": DONE}).order_by("-id")[:limit]
    return [public_wish(w) for w in rows]


def wall_districts() -> list[Area]:
    """The districts for the wall's filter (a city has about ten)."""
    return list(Area.objects.filter(level=Area.Level.DISTRICT).order_by("code").only("name"))


def _community_label(street: str | None, name: str) -> str:
    """A community as the console's picker shows it, "街道 · 社区" (a city
    has several 新民社区)."""
    return f"{street} · {name}" if street else name


def wall_communities(
    district: Area | None, community_pk: int | None = None
) -> list[tuple[int, str]]:
    """The community choices of the wall's filter, as (pk, "街道 · 社区"): the
    chosen district's communities (community → street → district); without
    a district, only the community a shared link names (``?community=<pk>``),
    so that link filters; otherwise none. One query, or none."""
    if district is not None:
        rows = Area.objects.filter(level=Area.Level.COMMUNITY, parent__parent=district)
    elif community_pk is not None and 0 < community_pk < 2**63:
        rows = Area.objects.filter(level=Area.Level.COMMUNITY, pk=community_pk)
    else:
        return []
    return [
        (pk, _community_label(street, name))
        for pk, street, name in rows.order_by("code").values_list("pk", "parent__name", "name")[
            :500
        ]
    ]


def get_public_wish(*, pk: int) -> PublicWish:
    """A shared link: a wish on the wall, else 404 (drafts, wishes not yet
    published, withdrawn ones)."""
    try:
        wish = _public_rows({"status__in": MicroWish.ON_WALL}).get(pk=pk)
    except (MicroWish.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc
    return public_wish(wish)


def get_public_photo(*, pk: int):
    """The photo of a wish on the wall that staff marked publishable, else
    404 (a draft's, a withdrawn wish's, one that may show a face)."""
    try:
        wish = (
            MicroWish.objects.filter(status__in=MicroWish.ON_WALL, photo_publishable=True)
            .exclude(photo="")
            .only("photo")
            .get(pk=pk)
        )
    except (MicroWish.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc
    return wish.photo


def get_adoptable_wish(*, pk: int) -> MicroWish:
    """The wish a volunteer adopts from the wall (the service locks and checks it)."""
    try:
        return MicroWish.objects.filter(status__in=MicroWish.ON_WALL).get(pk=pk)
    except (MicroWish.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


def adopt_refusal(*, user, wish: PublicWish) -> str:
    """Why the signed-in ``user`` cannot adopt ``wish`` from its page (shown
    instead of the adopt button), or "" when the button is shown: only a
    volunteer adopts online (organizations through the station), a
    sanctioned one not until the sanction ends (``provider_can_serve``, the
    service's rule), and one share per volunteer. An anonymous visitor is
    asked to sign in instead. At most two queries (the volunteer, their share)."""
    if not wish.can_adopt or not getattr(user, "is_authenticated", False):
        return ""
    if not has_role(user, Role.VOLUNTEER):
        return _(
            "Only volunteers adopt wishes online. An organization, company or "
            "merchant adopts a wish through the community's service station, "
            "which records the adoption for it."
        )
    volunteer = volunteer_of(user)
    if volunteer is None:
        return _("Your login is not linked to a volunteer record: ask your station.")
    if not provider_can_serve(volunteer):
        if volunteer.suspended_until:
            return _(
                "You are under a sanction until %(date)s and cannot adopt wishes until then."
            ) % {"date": volunteer.suspended_until.isoformat()}
        return _("You are under a sanction and cannot adopt wishes.")
    if WishAdoption.objects.filter(
        wish_id=wish.pk, volunteer=volunteer, status=WishAdoption.Status.ACTIVE
    ).exists():
        return _("You have already adopted a share of this wish: see My wishes.")
    return ""


# --- Staff ------------------------------------------------------------------------------


def wish_list(*, user) -> QuerySet[MicroWish]:
    """Wishes of the user's stations (a station manager's subtree; operators
    and center managers: the city), newest first (index wish_station)."""
    return scope_by_station(MicroWish.objects.all(), user).order_by("-id")


def wish_rows(*, user, status: str = "") -> QuerySet[MicroWish]:
    qs = wish_list(user=user).select_related("resident", "community", "station")
    if status:
        qs = qs.filter(status=status)
    return qs.only(
        "title",
        "kind",
        "status",
        "shares",
        "shares_taken",
        "pledged_total",
        "deadline",
        "round",
        "priority",
        "contact_due_at",
        "resident__name",
        "community__name",
        "station__name",
    )


def get_wish_for_user(*, user, pk: int) -> MicroWish:
    try:
        return (
            wish_list(user=user)
            .select_related("resident", "community", "district", "station", "created_by")
            .get(pk=pk)
        )
    except (MicroWish.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc


# The staff photo URL's ``which`` → the wish's field.
STAFF_PHOTOS = {"wish": "photo", "fulfilment": "fulfilment_photo"}


def get_wish_photo_for_user(*, user, pk: int, which: str):
    """A photo of a wish the user may see (scoped as ``get_wish_for_user``):
    the wish's own or the fulfilment photo; 404 when there is none."""
    field = STAFF_PHOTOS.get(which)
    if field is None:
        raise Http404
    try:
        wish = wish_list(user=user).exclude(**{field: ""}).only(field).get(pk=pk)
    except (MicroWish.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc
    return getattr(wish, field)


def campaign_counts(*, user, today: datetime.date | None = None) -> dict[str, int]:
    """This month's campaign for the user's stations: wishes published,
    adopted and fulfilled since the 1st, and those on the wall now. One
    aggregate over the stations' rows (index wish_station)."""
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today.replace(day=1), datetime.time()))
    return (
        wish_list(user=user)
        .order_by()
        .aggregate(
            published=Count("id", filter=Q(published_at__gte=start)),
            adopted=Count("id", filter=Q(adopted_at__gte=start)),
            fulfilled=Count("id", filter=Q(fulfilled_at__gte=start)),
            waiting=Count("id", filter=Q(status=S.PUBLISHED)),
        )
    )


def overdue_adoptions(*, user, now: datetime.datetime | None = None) -> QuerySet[MicroWish]:
    """Adopted wishes whose adopters have not contacted the family in time,
    oldest first (partial index wish_contact_due), each with its active
    adoptions and who holds them (``active_adoptions``: one more query for
    the page, whatever its length)."""
    now = now or timezone.now()
    return (
        wish_rows(user=user)
        .filter(status=S.ADOPTED, contact_due_at__lt=now)
        .prefetch_related(
            Prefetch(
                "adoptions",
                queryset=WishAdoption.objects.filter(status=WishAdoption.Status.ACTIVE)
                .select_related("volunteer", "organization")
                .only(
                    "wish_id",
                    "shares",
                    "is_remote",
                    "volunteer__name",
                    "volunteer__volunteer_no",
                    "volunteer__mobile",
                    "organization__name",
                    "organization__contact_name",
                    "organization__contact_phone",
                )
                .order_by("adopted_at", "id"),
                to_attr="active_adoptions",
            )
        )
        .order_by("contact_due_at", "id")
    )


def adopter_rows(adoptions: list[WishAdoption]) -> list[dict]:
    """Who holds each adoption, for the staff lists: "name · volunteer
    number" or the organization (and its contact person), with the phone
    masked (``center.masking.mask_mobile``)."""
    rows = []
    for a in adoptions:
        if a.volunteer_id:
            who = f"{a.volunteer.name} · {a.volunteer.volunteer_no}"
            phone = a.volunteer.mobile
        else:
            org = a.organization
            who = org.name + (f" · {org.contact_name}" if org.contact_name else "")
            phone = org.contact_phone
        rows.append({"who": who, "phone": mask_mobile(phone), "shares": a.shares})
    return rows


def wish_adoptions(wish: MicroWish) -> list[WishAdoption]:
    """Every adoption of the wish (released ones too: the record), with who."""
    return list(
        wish.adoptions.select_related(
            "volunteer", "organization", "deliverer", "acted_by"
        ).order_by("adopted_at", "id")
    )


def deliverer_candidates(wish: MicroWish, limit: int = 200) -> list[Volunteer]:
    """Volunteers who may deliver a remote adoption: not under sanction, of
    the wish's station or living in the family's community; those living in
    the community first, then the wish's station's, then by name. One query
    (the station's name comes with each: several volunteers share a name)."""
    return list(
        Volunteer.objects.filter(
            eligible_q(), Q(station=wish.station_id) | Q(community=wish.community_id)
        )
        .select_related("station")
        .order_by(
            Case(When(community=wish.community_id, then=0), default=1),
            Case(When(station=wish.station_id, then=0), default=1),
            "name",
            "id",
        )
        .only("name", "volunteer_no", "community_id", "station__name")[:limit]
    )


# --- A volunteer's own ----------------------------------------------------------------------


def my_adoptions(*, volunteer: Volunteer, limit: int = 50) -> list[WishAdoption]:
    """The volunteer's active adoptions and deliveries, newest first
    (indexes wishadoption_volunteer and wishadoption_deliverer), each with
    ``wish_adopters``: how many active adoptions its wish has (a shared
    wish's fulfilment is recorded by the station)."""
    adopters = (
        WishAdoption.objects.filter(wish=OuterRef("wish"), status=WishAdoption.Status.ACTIVE)
        .order_by()
        .values("wish")
        .annotate(n=Count("id"))
        .values("n")
    )
    return list(
        WishAdoption.objects.filter(
            Q(volunteer=volunteer) | Q(deliverer=volunteer), status=WishAdoption.Status.ACTIVE
        )
        .select_related("wish", "wish__community", "wish__district", "wish__station")
        .annotate(wish_adopters=Subquery(adopters))
        .order_by("-adopted_at", "-id")[:limit]
    )


def get_my_wish(*, volunteer: Volunteer, pk: int) -> MicroWish:
    """A wish the volunteer adopted or delivers (an active adoption), else 404."""
    mine = WishAdoption.objects.filter(
        Q(volunteer=volunteer) | Q(deliverer=volunteer),
        status=WishAdoption.Status.ACTIVE,
        wish_id=pk,
    )
    try:
        if not mine.exists():
            raise MicroWish.DoesNotExist
        return MicroWish.objects.get(pk=pk)
    except (MicroWish.DoesNotExist, ValueError, OverflowError) as exc:
        raise Http404 from exc
