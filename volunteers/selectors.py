"""Reads for the volunteers app, scoped through center.roles."""

import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from center.models import Role, Station
from center.roles import ALL, has_role, station_ids_for

from .models import (
    Certificate,
    Complaint,
    HoursEntry,
    ImportBatch,
    Merchant,
    Organization,
    Post,
    PostClaim,
    Provider,
    ProviderStatus,
    Sanction,
    ServiceTeam,
    Volunteer,
)
from .stars import hours_range_for_star


def _sum_or_zero(field: str, condition: Q):
    return Coalesce(Sum(field, filter=condition), Value(Decimal("0")), output_field=DecimalField())


# --- Eligibility: the one check that dispatch calls ---------------------------


def provider_can_serve(provider: Volunteer | Merchant, on: datetime.date | None = None) -> bool:
    """True when the provider may be dispatched and may take orders on ``on``.

    A suspension ends by itself on ``suspended_until`` even before the daily
    expiry job has run. ``eligible_q`` is the same rule for querysets.
    """
    on = on or timezone.localdate()
    if provider.status == ProviderStatus.ACTIVE:
        return True
    return (
        provider.status == ProviderStatus.SUSPENDED
        and provider.suspended_until is not None
        and provider.suspended_until <= on
    )


def eligible_q(on: datetime.date | None = None) -> Q:
    on = on or timezone.localdate()
    return Q(status=ProviderStatus.ACTIVE) | Q(
        status=ProviderStatus.SUSPENDED, suspended_until__lte=on
    )


def provider_for(subject: Provider | Volunteer | Merchant | ServiceTeam) -> Provider:
    """The dispatch row of a volunteer, merchant or team (complaints, sanctions
    and orders point at it); a Provider is its own."""
    if isinstance(subject, Provider):
        return subject
    return Provider.objects.get(**{Provider._link_name(subject): subject})


def volunteer_of(user) -> Volunteer | None:
    """The volunteer whose login ``user`` is, or None for anyone else (staff,
    a merchant, a volunteer login whose record is gone): the one lookup
    behind every self-service page and a volunteer's own certificates."""
    if not has_role(user, Role.VOLUNTEER):
        return None
    try:
        return Volunteer.objects.select_related("station", "organization").get(user=user)
    except Volunteer.DoesNotExist:
        return None


# --- Scoping ---------------------------------------------------------------------


def _scoped_volunteers(user) -> QuerySet[Volunteer]:
    ids = station_ids_for(user)
    qs = Volunteer.objects.all()
    return qs if ids is ALL else qs.filter(station_id__in=ids)


def _scoped_merchants(user) -> QuerySet[Merchant]:
    ids = station_ids_for(user)
    qs = Merchant.objects.all()
    if ids is ALL:
        return qs
    # A subquery, not a join: no DISTINCT over the merchants table.
    served = Merchant.stations.through.objects.filter(station_id__in=ids).values("merchant_id")
    return qs.filter(pk__in=served)


def volunteer_list(*, user) -> QuerySet[Volunteer]:
    return _scoped_volunteers(user).select_related("station", "organization").order_by("-id")


def get_volunteer_for_user(*, user, pk: int) -> Volunteer:
    try:
        return (
            _scoped_volunteers(user)
            .select_related("station", "organization", "community", "user")
            .get(pk=pk)
        )
    except Volunteer.DoesNotExist as exc:
        raise Http404 from exc


def _ladder_history(**provider) -> dict:
    """The last complaints and sanctions of one provider (a volunteer or merchant)."""
    return {
        "complaints": list(
            Complaint.objects.filter(**provider).select_related("recorded_by", "ruled_by")[:20]
        ),
        "sanctions": list(
            Sanction.objects.filter(**provider).select_related("complaint", "revoked_by")[:20]
        ),
    }


def volunteer_detail_context(*, volunteer: Volunteer) -> dict:
    return {
        "specialties": list(volunteer.specialties.all()),
        "service_items": list(volunteer.service_items.select_related("category")[:50]),
        "hours": list(volunteer.hours.select_related("station")[:20]),
        **_ladder_history(provider__volunteer=volunteer),
        "claims": list(volunteer.post_claims.select_related("post__station")[:20]),
        "certificates": list(volunteer.certificates.select_related("station")[:20]),
        "teams": list(volunteer.teams.select_related("station")),
    }


def star_filter(level: int) -> Q:
    low, high = hours_range_for_star(level)
    q = Q(verified_hours__gte=low)
    return q & Q(verified_hours__lt=high) if high is not None else q


def merchant_list(*, user) -> QuerySet[Merchant]:
    return _scoped_merchants(user).annotate(station_count=Count("stations")).order_by("-id")


def get_merchant_for_user(*, user, pk: int) -> Merchant:
    try:
        return _scoped_merchants(user).select_related("user").get(pk=pk)
    except Merchant.DoesNotExist as exc:
        raise Http404 from exc


def merchant_detail_context(*, merchant: Merchant) -> dict:
    return {
        "stations": list(merchant.stations.select_related("district", "parent").order_by("code")),
        "offers": list(merchant.offers.select_related("item__category").order_by("item__code")),
        **_ladder_history(provider__merchant=merchant),
    }


def team_list(*, user) -> QuerySet[ServiceTeam]:
    ids = station_ids_for(user)
    qs = ServiceTeam.objects.select_related("station", "specialty", "leader").annotate(
        member_count=Count("members")
    )
    return (qs if ids is ALL else qs.filter(station_id__in=ids)).order_by("name")


def get_team_for_user(*, user, pk: int) -> ServiceTeam:
    try:
        return team_list(user=user).get(pk=pk)
    except ServiceTeam.DoesNotExist as exc:
        raise Http404 from exc


COMPLAINT_JOINS = (
    "provider__volunteer",
    "provider__merchant",
    "provider__station",
    "recorded_by",
    "ruled_by",
    "follow_up__order",
)


def complaint_list(*, user) -> QuerySet[Complaint]:
    """The complaints ``user`` may see, newest first, with no joins: a page
    is chosen first (walking complaint_recorded, the scope checked by a hashed
    subquery), then ``complaint_rows`` reads its 50 rows with what they show.
    With the joins in the same query PostgreSQL joined seven tables for each
    of the ~3,700 rows it walked before filtering (45 ms at city size)."""
    ids = station_ids_for(user)
    qs = Complaint.objects.all()
    if ids is not ALL:
        # The providers in scope as one subquery PostgreSQL hashes: home
        # station, or a merchant serving one of the stations (their few ids
        # read first, so the OR is two index lookups, not a scan of 160,000
        # providers). The page then walks complaint_recorded newest first.
        served = list(
            Merchant.stations.through.objects.filter(station_id__in=ids).values_list(
                "merchant_id", flat=True
            )
        )
        in_scope = Provider.objects.filter(Q(station_id__in=ids) | Q(merchant_id__in=served))
        qs = qs.filter(provider_id__in=in_scope.values("pk"))
    return qs.order_by("-recorded_at", "-id")


def complaint_rows(page) -> list[Complaint]:
    """The rows of one page of ``complaint_list`` with the provider, its
    station and who recorded it (one query by primary key)."""
    ids = [c.pk for c in page]
    rows = Complaint.objects.select_related("provider__station", "recorded_by").in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def get_complaint_for_user(*, user, pk: int) -> Complaint:
    try:
        return complaint_list(user=user).select_related(*COMPLAINT_JOINS).get(pk=pk)
    except Complaint.DoesNotExist as exc:
        raise Http404 from exc


def sanction_history(*, complaint: Complaint) -> Sanction | None:
    return Sanction.objects.filter(complaint=complaint).select_related("revoked_by").first()


def post_list(*, user) -> QuerySet[Post]:
    ids = station_ids_for(user)
    live = ~Q(claims__status=PostClaim.Status.WITHDRAWN)
    qs = Post.objects.select_related("station").annotate(
        taken=Count("claims", filter=live),
        reported=Count("claims", filter=Q(claims__status=PostClaim.Status.REPORTED)),
    )
    return (qs if ids is ALL else qs.filter(station_id__in=ids)).order_by("-id")


def get_post_for_user(*, user, pk: int) -> Post:
    try:
        return post_list(user=user).get(pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc


def post_claims(*, post: Post) -> list[PostClaim]:
    return list(
        post.claims.exclude(status=PostClaim.Status.WITHDRAWN)
        .select_related("volunteer__organization")
        .order_by("status", "claimed_at")
    )


def claimable_posts(*, volunteer: Volunteer) -> QuerySet[Post]:
    """Open posts at the volunteer's home station and the stations under it."""
    stations = Station.objects.filter(
        Q(pk=volunteer.station_id) | Q(parent_id=volunteer.station_id)
    ).values("pk")
    return Post.objects.filter(station__in=stations, is_open=True)


def open_posts_for(*, volunteer: Volunteer) -> QuerySet[Post]:
    mine = (
        PostClaim.objects.filter(volunteer=volunteer)
        .exclude(status=PostClaim.Status.WITHDRAWN)
        .values("post_id")
    )
    return (
        claimable_posts(volunteer=volunteer)
        .exclude(pk__in=mine)
        .select_related("station")
        .annotate(taken=Count("claims", filter=~Q(claims__status=PostClaim.Status.WITHDRAWN)))
        .order_by("-id")[:50]
    )


def pending_hours(*, user) -> QuerySet[HoursEntry]:
    ids = station_ids_for(user)
    qs = HoursEntry.objects.filter(verified_at__isnull=True).select_related(
        "volunteer", "station", "recorded_by"
    )
    return (qs if ids is ALL else qs.filter(station_id__in=ids)).order_by("date", "id")


def organization_list() -> QuerySet[Organization]:
    return Organization.objects.annotate(member_count=Count("members")).order_by("name")


def organization_quarter_rows(
    *, organization: Organization, start: datetime.date, end: datetime.date
):
    """One row per member: hours by source, posts claimed/reported, in the quarter."""
    in_quarter = Q(hours__date__range=(start, end), hours__verified_at__isnull=False)
    return (
        organization.members.order_by("volunteer_no")
        .annotate(
            quarter_hours=_sum_or_zero("hours__hours", in_quarter),
            order_count=Count(
                "hours", filter=in_quarter & Q(hours__source=HoursEntry.Source.ORDER)
            ),
            post_hours=_sum_or_zero(
                "hours__hours", in_quarter & Q(hours__source=HoursEntry.Source.POST_DUTY)
            ),
        )
        .prefetch_related(
            Prefetch(
                "post_claims",
                queryset=PostClaim.objects.exclude(
                    status=PostClaim.Status.WITHDRAWN
                ).select_related("post__station"),
                to_attr="live_claims",
            )
        )
    )


def certificate_for_user(*, user, pk: int) -> Certificate:
    qs = Certificate.objects.select_related("volunteer", "station", "issued_by")
    if has_role(user, Role.VOLUNTEER):
        mine = volunteer_of(user)
        qs = qs.filter(volunteer=mine) if mine else qs.none()
    else:
        ids = station_ids_for(user)
        if ids is not ALL:
            qs = qs.filter(volunteer__station_id__in=ids)
    try:
        return qs.get(pk=pk)
    except Certificate.DoesNotExist as exc:
        raise Http404 from exc


def notifications_for(*, user, limit: int = 20):
    return list(user.notifications.all()[:limit])


def import_batches_for(*, user) -> QuerySet[ImportBatch]:
    """An import is seen and applied by the person who uploaded it only."""
    return ImportBatch.objects.filter(created_by=user)


def import_preview_rows(*, batch, limit: int = 100) -> list[dict[str, str]]:
    """The first rows of an import as the preview shows them: mobiles and ID
    numbers masked (the checks already ran on the full values)."""
    from center.masking import mask_id_number, mask_mobile
    from center.validators import normalize_id_number, normalize_phone

    out = []
    for row in batch.rows[:limit]:
        row = dict(row)
        if row.get("mobile"):
            row["mobile"] = mask_mobile(normalize_phone(row["mobile"]))
        if row.get("id_number"):
            row["id_number"] = mask_id_number(normalize_id_number(row["id_number"]))
        out.append(row)
    return out
