"""Volunteers' sign-ups to service-day shifts: the places, the waiting list,
check-in and check-out (which credits the hours).

Each function: one transaction, the rows locked, the rule checked (a
ValidationError a user can read), the write, an audit entry.

Lock order, always: the shift, then the volunteer or the sign-ups of that one
shift. A transaction locks one shift only, so two sign-ups never wait on each
other in a circle.
"""

import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import audit
from center.models import User
from center.notifications import notify
from volunteers import services as volunteer_services
from volunteers.models import HoursEntry, Volunteer
from volunteers.selectors import provider_can_serve

from ..models import Shift, SignUp

# The service day is a day in Jiaxing, whatever the server's clock says.
SERVICE_TZ = ZoneInfo("Asia/Shanghai")


def _locked_shift(shift_id: int) -> Shift:
    # of=("self",): lock the shift only, not the stall, venue and day joined in.
    return (
        Shift.objects.select_for_update(of=("self",))
        .select_related("stall__venue__day", "stall__venue__station")
        .get(pk=shift_id)
    )


def _overlapping_confirmed(volunteer_id: int, shift: Shift, exclude_pk: int | None = None):
    """The volunteer's confirmed sign-ups whose shift overlaps ``shift`` in time."""
    qs = SignUp.objects.filter(
        volunteer_id=volunteer_id,
        status=SignUp.Status.CONFIRMED,
        shift__starts_at__lt=shift.ends_at,
        shift__ends_at__gt=shift.starts_at,
    ).exclude(shift_id=shift.pk)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs


@transaction.atomic
def signup_create(*, actor: User | None, shift: Shift, volunteer: Volunteer) -> SignUp:
    """Sign ``volunteer`` up for ``shift``: confirmed while places are left
    (``taken`` counts them), else on the waiting list in turn.

    Under the shift's row lock, so concurrent sign-ups for the last place have
    exactly one winner. Inverse: ``signup_cancel``, which gives the place back
    (to the first on the waiting list, or free) and keeps the row as
    cancelled; signing up again afterwards makes a new row at the end of the
    waiting list, not the old place back.
    """
    shift = _locked_shift(shift.pk)
    # The volunteer's row too: their sign-ups on other shifts at the same time
    # are checked below and must not slip in concurrently.
    volunteer = Volunteer.objects.select_for_update(of=("self",)).get(pk=volunteer.pk)
    day = shift.stall.venue.day
    if not provider_can_serve(volunteer, on=day.date):
        raise ValidationError(
            _("%(name)s cannot serve at the moment and cannot sign up for a shift.")
            % {"name": volunteer.name}
        )
    if shift.starts_at <= timezone.now():
        raise ValidationError(_("This shift has already started: sign-ups are closed."))
    if (
        SignUp.objects.filter(shift=shift, volunteer=volunteer)
        .exclude(status=SignUp.Status.CANCELLED)
        .exists()
    ):
        raise ValidationError(
            _("%(name)s is already signed up for this shift.") % {"name": volunteer.name}
        )
    if _overlapping_confirmed(volunteer.pk, shift).exists():
        raise ValidationError(
            _("%(name)s already has a shift at this time on this day.") % {"name": volunteer.name}
        )
    if shift.taken < shift.capacity:
        status = SignUp.Status.CONFIRMED
        shift.taken += 1
        shift.save(update_fields=["taken"])
    else:
        status = SignUp.Status.WAITING
    signup = SignUp.objects.create(shift=shift, volunteer=volunteer, status=status)
    audit(
        actor=actor,
        action="events.signup.created",
        target=signup,
        data={"shift": shift.pk, "volunteer": volunteer.pk, "status": status},
    )
    return signup


@transaction.atomic
def signup_cancel(*, actor: User | None, signup: SignUp) -> SignUp:
    """Cancel a sign-up (the volunteer themselves, or staff) before the shift
    starts.

    A confirmed place goes to the first on the waiting list (sign-up time,
    then id: index ``signup_waiting``) who has no other confirmed shift at the
    same time, and they are told; with nobody waiting the place is free again
    (``taken`` - 1). Cancelling a waiting sign-up only leaves the list.
    Inverse of ``signup_create``: restores the place count (or hands the place
    on); deliberately keeps the row (status cancelled, ``cancelled_at``) for
    the record — a new sign-up is a new row.
    """
    shift = _locked_shift(signup.shift_id)
    signup = SignUp.objects.select_for_update().select_related("volunteer").get(pk=signup.pk)
    if signup.status == SignUp.Status.CANCELLED:
        raise ValidationError(_("This sign-up is already cancelled."))
    if signup.checked_in_at is not None:
        # Attendance is a record: cancelling it (and signing up again) would
        # let the same shift be credited twice.
        raise ValidationError(_("This sign-up is checked in: it can no longer be cancelled."))
    if shift.starts_at <= timezone.now():
        raise ValidationError(_("This shift has already started: it can no longer be cancelled."))
    was = signup.status
    signup.status = SignUp.Status.CANCELLED
    signup.cancelled_at = timezone.now()
    signup.save(update_fields=["status", "cancelled_at"])
    promoted = None
    if was == SignUp.Status.CONFIRMED:
        promoted = _promote_first_waiting(actor, shift)
        if promoted is None:
            shift.taken -= 1
            shift.save(update_fields=["taken"])
    audit(
        actor=actor,
        action="events.signup.cancelled",
        target=signup,
        data={"was": was, "promoted": promoted.pk if promoted else None},
    )
    return signup


def _promote_first_waiting(actor: User | None, shift: Shift) -> SignUp | None:
    """Give the freed place of ``shift`` (locked by the caller) to the first
    waiting sign-up whose volunteer has no overlapping confirmed shift; those
    skipped keep their turn. The place stays taken: ``taken`` is unchanged."""
    waiting = (
        SignUp.objects.select_for_update(of=("self",))
        .select_related("volunteer__user")
        .filter(shift=shift, status=SignUp.Status.WAITING)
        .order_by("created_at", "id")
    )
    for candidate in waiting:
        if _overlapping_confirmed(candidate.volunteer_id, shift).exists():
            continue
        candidate.status = SignUp.Status.CONFIRMED
        candidate.save(update_fields=["status"])
        audit(
            actor=actor,
            action="events.signup.promoted",
            target=candidate,
            data={"shift": shift.pk, "volunteer": candidate.volunteer_id},
        )
        _tell_promoted(candidate, shift)
        return candidate
    return None


def _tell_promoted(signup: SignUp, shift: Shift) -> None:
    """Tell the volunteer moved up: their login's channels, or an SMS to
    their mobile when they have no login (issue 13)."""
    volunteer = signup.volunteer
    user = volunteer.user
    venue = shift.stall.venue
    notify(
        recipient=user,
        phone=volunteer.mobile,
        # The login's key as before (stored rows keep it); per volunteer without one.
        key=f"events.signup.promoted.{signup.pk}.{user.pk if user else f'v{volunteer.pk}'}",
        kind="events.signup",
        message="events.signup.promoted",
        params={
            "date": venue.day.date.isoformat(),
            "service": shift.stall.service,
            "venue": venue.name,
            "start": timezone.localtime(shift.starts_at, SERVICE_TZ).strftime("%H:%M"),
            "end": timezone.localtime(shift.ends_at, SERVICE_TZ).strftime("%H:%M"),
        },
    )


def _locked_for_attendance(signup: SignUp) -> SignUp:
    signup = (
        SignUp.objects.select_for_update(of=("self",))
        .select_related("volunteer", "shift__stall__venue__day", "shift__stall__venue__station")
        .get(pk=signup.pk)
    )
    if signup.status != SignUp.Status.CONFIRMED:
        raise ValidationError(_("Only a confirmed sign-up can be checked in or out."))
    return signup


# Volunteers may arrive a little early; a check-in earlier than this before
# the shift (or after it ended) is refused.
EARLY_CHECK_IN = datetime.timedelta(minutes=60)


def _check_on_the_day(signup: SignUp, at: datetime.datetime) -> None:
    day = signup.shift.stall.venue.day
    if timezone.localdate(at, SERVICE_TZ) != day.date:
        raise ValidationError(
            _("Check-in and check-out are only possible on the service day (%(date)s).")
            % {"date": day.date.isoformat()}
        )


def credited_span(
    signup: SignUp, out: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    """The time credited for a shift: from check-in or the shift's start,
    whichever is later, to check-out or the shift's end, whichever is
    earlier. Arriving early or leaving late serves the stall but is not the
    shift; the hours are the shift's at most."""
    shift = signup.shift
    return max(signup.checked_in_at, shift.starts_at), min(out, shift.ends_at)


def hours_ref(signup: SignUp) -> str:
    """The hours entry's reference (``SignUp.hours_ref``)."""
    return signup.hours_ref


@transaction.atomic
def signup_check_in(
    *, actor: User | None, signup: SignUp, at: datetime.datetime | None = None
) -> SignUp:
    """Record that the volunteer of a confirmed sign-up arrived (staff, or the
    volunteer scanning the stall's code), on the service day only, from an
    hour before the shift (``EARLY_CHECK_IN``) until it ends.

    Inverse: none; a wrong time is corrected by staff later (the hours by a
    manual entry)."""
    at = at or timezone.now()
    signup = _locked_for_attendance(signup)
    _check_on_the_day(signup, at)
    if signup.checked_in_at is not None:
        raise ValidationError(
            _("%(name)s is already checked in.") % {"name": signup.volunteer.name}
        )
    shift = signup.shift
    if at < shift.starts_at - EARLY_CHECK_IN:
        raise ValidationError(
            _("Check-in opens an hour before the shift (%(start)s).")
            % {"start": timezone.localtime(shift.starts_at, SERVICE_TZ).strftime("%H:%M")}
        )
    if at >= shift.ends_at:
        raise ValidationError(
            _("This shift ended at %(end)s: it can no longer be checked in.")
            % {"end": timezone.localtime(shift.ends_at, SERVICE_TZ).strftime("%H:%M")}
        )
    signup.checked_in_at = at
    signup.checked_in_by = actor if getattr(actor, "pk", None) else None
    signup.save(update_fields=["checked_in_at", "checked_in_by"])
    audit(
        actor=actor,
        action="events.signup.checked_in",
        target=signup,
        data={"at": at.isoformat()},
    )
    return signup


@transaction.atomic
def signup_check_out(
    *, actor: User | None, signup: SignUp, at: datetime.datetime | None = None
) -> SignUp:
    """Record that the volunteer left, and credit the time served in the
    shift once (``credited_span``: within the shift's times), as service-day
    hours (``hours_between``: rounded like order hours) at the venue's
    station. Refused before the shift has begun (nothing served in it yet).

    A second check-out is refused, a checked-in sign-up cannot be cancelled,
    and ``hours_record`` is idempotent on ``shift:<pk>:volunteer:<pk>``
    besides, so a shift is never credited twice, whatever the rows. Inverse:
    none; wrong hours are corrected by a manual entry with a reason."""
    at = at or timezone.now()
    signup = _locked_for_attendance(signup)
    _check_on_the_day(signup, at)
    name = signup.volunteer.name
    if signup.checked_in_at is None:
        raise ValidationError(_("%(name)s has not checked in yet.") % {"name": name})
    if signup.checked_out_at is not None:
        raise ValidationError(_("%(name)s is already checked out.") % {"name": name})
    if at <= signup.checked_in_at:
        raise ValidationError(_("Check-out must be after check-in."))
    start, end = credited_span(signup, at)
    if end <= start:
        raise ValidationError(
            _("The shift starts at %(start)s: check out once you have served in it.")
            % {"start": timezone.localtime(signup.shift.starts_at, SERVICE_TZ).strftime("%H:%M")}
        )
    signup.checked_out_at = at
    signup.save(update_fields=["checked_out_at"])
    venue = signup.shift.stall.venue
    hours = volunteer_services.hours_between(start, end)
    entry = volunteer_services.hours_record(
        actor=actor,
        volunteer=signup.volunteer,
        date=venue.day.date,
        hours=hours,
        source=HoursEntry.Source.SERVICE_DAY,
        source_ref=hours_ref(signup),
        description=signup.shift.stall.service,
        station=venue.station,
    )
    audit(
        actor=actor,
        action="events.signup.checked_out",
        target=signup,
        data={"at": at.isoformat(), "hours": str(hours), "entry": entry.pk},
    )
    return signup
