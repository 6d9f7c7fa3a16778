"""Volunteers check themselves in and out by scanning the code shown at the
stall (issue 12).

The code is not stored: ``stall_code`` derives it from the stall and the
service date with the project's secret (``salted_hmac``), so it differs per
stall and rotates every day, and a code seen on one day is worthless on any
other. The stall's poster (``events:stall_code``) shows today's code as a QR
code of the ``events:self_check_in`` URL, on the service day only.

Guessing is bounded per volunteer: ``WRONG_CODE_LIMIT`` wrong codes within
``WRONG_CODE_WINDOW`` seconds and every code of that volunteer is refused
for the next window (``center.ratelimit``; fails open when the cache is
down, like every limit of the project). Refused codes are not audited: the
limit bounds them, and an audit row written in the refusing transaction
would roll back with it anyway. A successful scan is audited by the sign-up
services it calls (``events.signup.checked_in`` / ``checked_out``, actor =
the volunteer's login).
"""

import base64
import datetime
import hmac
import logging

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from center import ratelimit
from center.models import User
from center.roles import scope_by_station
from volunteers.models import Volunteer

from ..models import SignUp, Stall
from .signups import SERVICE_TZ, signup_check_in, signup_check_out

log = logging.getLogger(__name__)

CODE_SALT = "events.stall-code"
CODE_LENGTH = 8  # base32: 40 bits, read aloud or typed if a phone cannot scan
WRONG_CODE_LIMIT = 10
WRONG_CODE_WINDOW = 10 * 60  # seconds


def service_today(at: datetime.datetime | None = None) -> datetime.date:
    """The date in Jiaxing at ``at`` (now by default), whatever the server's zone."""
    return timezone.localdate(at or timezone.now(), SERVICE_TZ)


def stall_code(stall: Stall | int, date: datetime.date) -> str:
    """The stall's check-in code for ``date``: 8 base32 characters of an HMAC
    (the project's SECRET_KEY) of the stall's pk and the ISO date. Nothing is
    stored; changing SECRET_KEY changes every code."""
    pk = getattr(stall, "pk", stall)
    digest = salted_hmac(CODE_SALT, f"{pk}:{date.isoformat()}", algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]


def _throttle_keys(volunteer: Volunteer, stall) -> tuple[str, str]:
    """Per volunteer and stall: guessing is bounded at each stall they are
    signed up at, and a forged link to one stall cannot block their scan at
    another (a volunteer is refused at a stall none of theirs before any
    code is checked)."""
    key = f"{volunteer.pk}:{getattr(stall, 'pk', stall)}"
    return f"events.self-check:{key}", f"lianxin:events:self-check-blocked:{key}"


def _is_blocked(volunteer: Volunteer, stall) -> bool:
    try:
        return bool(cache.get(_throttle_keys(volunteer, stall)[1]))
    except Exception:  # the cache backend's own errors: fail open, as center.ratelimit does
        log.warning("self check-in: cache unavailable; not throttling %s", volunteer.pk)
        return False


def _count_wrong_code(volunteer: Volunteer, stall) -> None:
    """One more wrong code; the ``WRONG_CODE_LIMIT``-th within the window
    blocks the volunteer's scans at the stall for a window."""
    counter, blocked = _throttle_keys(volunteer, stall)
    if not ratelimit.allow(counter, WRONG_CODE_LIMIT - 1, WRONG_CODE_WINDOW):
        try:
            cache.set(blocked, 1, timeout=WRONG_CODE_WINDOW)
        except Exception:  # fail open
            return
        log.warning("self check-in: volunteer %s blocked after wrong codes", volunteer.pk)


def _too_many() -> ValidationError:
    return ValidationError(
        _("Too many wrong codes. Wait %(minutes)s minutes, then scan the code again.")
        % {"minutes": WRONG_CODE_WINDOW // 60},
        code="throttled",
    )


def verify_code(
    *, volunteer: Volunteer, stall: Stall, code: str, at: datetime.datetime | None = None
) -> None:
    """Refuse (ValidationError) a volunteer who is blocked for guessing, or a
    code that is not the stall's code of today (Asia/Shanghai) — a wrong code
    and another day's code alike; a refused code counts towards the limit.
    Writes nothing but the counter in the cache."""
    if _is_blocked(volunteer, stall):
        raise _too_many()
    expected = stall_code(stall, service_today(at))
    given = (code or "").strip().upper()
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        _count_wrong_code(volunteer, stall)
        if _is_blocked(volunteer, stall):
            raise _too_many()
        raise ValidationError(
            _(
                "This code is not valid for this stall today. Scan the code shown at the "
                "stall again."
            ),
            code="wrong_code",
        )


def signup_for_self_check(
    *, volunteer: Volunteer, stall: Stall, at: datetime.datetime | None = None, lock: bool = False
) -> SignUp | None:
    """The volunteer's confirmed sign-up that a scan of ``stall`` at ``at``
    acts on, or None: only when the stall's service day is today. Of several
    shifts: the one checked in and not out yet, else the current or next one
    not checked in, else the last one. One query (a stall has few shifts)."""
    at = at or timezone.now()
    qs = (
        SignUp.objects.filter(
            volunteer=volunteer,
            status=SignUp.Status.CONFIRMED,
            shift__stall=stall,
            shift__stall__venue__day__date=service_today(at),
        )
        .select_related("shift__stall__venue__day", "shift__stall__venue__station")
        .order_by("shift__starts_at", "id")
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    rows = list(qs)
    for signup in rows:
        if signup.checked_in_at is not None and signup.checked_out_at is None:
            return signup
    waiting_for_check_in = [s for s in rows if s.checked_in_at is None]
    for signup in waiting_for_check_in:
        if signup.shift.ends_at > at:
            return signup
    if waiting_for_check_in:
        return waiting_for_check_in[-1]
    return rows[-1] if rows else None


def _no_signup_today() -> ValidationError:
    return ValidationError(
        _("You have no confirmed sign-up for a shift at this stall today."), code="no_signup"
    )


def self_check_preview(
    *, volunteer: Volunteer, stall: Stall, code: str, at: datetime.datetime | None = None
) -> SignUp:
    """What a scan would act on (the confirm page): the code checked (and a
    wrong one counted) like ``self_check``, nothing written."""
    verify_code(volunteer=volunteer, stall=stall, code=code, at=at)
    signup = signup_for_self_check(volunteer=volunteer, stall=stall, at=at)
    if signup is None:
        raise _no_signup_today()
    return signup


@transaction.atomic
def self_check(
    *,
    actor: User | None,
    volunteer: Volunteer,
    stall: Stall,
    code: str,
    at: datetime.datetime | None = None,
) -> SignUp:
    """The volunteer scanned the stall's code: check in on their confirmed
    sign-up of today at this stall, or, once checked in, check out (which
    credits the hours once). Refuses a blocked volunteer, a wrong code or
    another day's code, a volunteer without a confirmed sign-up at the stall
    today, and a shift already checked out.

    Delegates the write, its rules and its audit to ``signup_check_in`` /
    ``signup_check_out`` (the sign-up row locked here first, so two scans at
    once act once). Inverse: none, as for staff check-in; a wrong time is
    corrected by staff (the hours by a manual entry)."""
    at = at or timezone.now()
    verify_code(volunteer=volunteer, stall=stall, code=code, at=at)
    signup = signup_for_self_check(volunteer=volunteer, stall=stall, at=at, lock=True)
    if signup is None:
        raise _no_signup_today()
    if signup.checked_in_at is None:
        return signup_check_in(actor=actor, signup=signup, at=at)
    if signup.checked_out_at is None:
        return signup_check_out(actor=actor, signup=signup, at=at)
    raise ValidationError(
        _("You are already checked out of this shift: your hours are recorded."),
        code="done",
    )


# --- Reads for the pages ---------------------------------------------------------------


def get_stall_for_staff(*, user, pk: int) -> Stall:
    """A stall the staff user may see (a station manager: their stations'
    venues; center managers and operators: all); 404 otherwise."""
    qs = Stall.objects.select_related("venue__day", "venue__station", "item")
    return get_object_or_404(scope_by_station(qs, user, "venue__station"), pk=pk)


def signed_up_at(*, volunteer: Volunteer, stall: Stall) -> bool:
    """Whether the volunteer has an active sign-up (confirmed or waiting) on
    a shift of the stall, any time: a stall that is none of theirs is not
    scanned at all (no code checked, nothing counted)."""
    return SignUp.objects.filter(
        volunteer=volunteer,
        shift__stall=stall,
        status__in=(SignUp.Status.CONFIRMED, SignUp.Status.WAITING),
    ).exists()


def get_stall_to_scan(*, pk: int) -> Stall:
    """Any stall (the service day is city-wide; the code decides); 404 if none."""
    return get_object_or_404(Stall.objects.select_related("venue__day", "venue__station"), pk=pk)
