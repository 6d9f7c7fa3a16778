"""Highlights of the public record (亮点): a manager picks a stall of a service
day, an activity held, or (center managers) a whole service day as a
highlight of a month, a quarter or a year, with a title and a few words.

Who may: managers only. A station manager for the stalls and activities of
their stations; a center manager for any, and for a whole service day (it
is city-wide). The views fetch the subject through a scoped selector first
(another station's: 404); these services check again and refuse with
PermissionDenied.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from center.audit import audit
from center.models import User
from center.roles import is_center_manager, is_manager, station_ids_for

from ..models import Activity, Highlight, ServiceDay, Stall
from ..selectors_record import parse_period, period_of

TITLE_MAX = Highlight._meta.get_field("title").max_length


def _may_handle(actor: User | None, *, station_id: int | None) -> bool:
    """A subject of ``station_id`` (None: a whole service day, city-wide)."""
    if not is_manager(actor):
        return False
    if is_center_manager(actor):
        return True
    if station_id is None:
        return False
    return station_id in (station_ids_for(actor) or frozenset())


def _subject_station_id(highlight: Highlight) -> int | None:
    if highlight.stall_id:
        return highlight.stall.venue.station_id
    if highlight.activity_id:
        return highlight.activity.station_id
    return None


@transaction.atomic
def highlight_add(
    *,
    actor: User | None,
    period: str,
    period_start: datetime.date,
    title: str,
    text: str = "",
    service_day: ServiceDay | None = None,
    stall: Stall | None = None,
    activity: Activity | None = None,
) -> Highlight:
    """Make the subject (exactly one of a service day, a stall, an activity
    held) a highlight of the month, quarter or year starting ``period_start``,
    placed last. The subject must fall in the period and not already be one of
    its highlights. Inverse: ``highlight_remove``."""
    if not is_manager(actor):
        raise PermissionDenied
    subjects = [s for s in (service_day, stall, activity) if s is not None]
    if len(subjects) != 1:
        raise ValidationError(_("Choose one service day, stall or activity."))
    kinds = {choice.value for choice in Highlight.Period}
    if period not in kinds or not isinstance(period_start, datetime.date):
        raise ValidationError(_("Choose a month, a quarter or a year."))
    span = period_of(period, period_start)
    if span.start != period_start or parse_period(span.key) is None:
        raise ValidationError(_("Choose a month, a quarter or a year."))
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("A highlight needs a title.")})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": _("At most %(n)d characters.") % {"n": TITLE_MAX}})
    # Lock the subject: two managers adding it to the same period at once
    # give one highlight, not two.
    if stall is not None:
        stall = (
            Stall.objects.select_for_update(of=("self",))
            .select_related("venue__day")
            .get(pk=stall.pk)
        )
        station_id, date, match = stall.venue.station_id, stall.venue.day.date, {"stall": stall}
    elif activity is not None:
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        station_id, date, match = activity.station_id, activity.date, {"activity": activity}
        if activity.status != Activity.Status.HELD:
            raise ValidationError(_("Only an activity that was held can be a highlight."))
    else:
        service_day = ServiceDay.objects.select_for_update().get(pk=service_day.pk)
        station_id, date, match = None, service_day.date, {"service_day": service_day}
    if not _may_handle(actor, station_id=station_id):
        raise PermissionDenied
    if not span.start <= date <= span.end:
        raise ValidationError(
            _("That took place on %(date)s, outside %(period)s.")
            % {"date": f"{date:%Y-%m-%d}", "period": span.label}
        )
    same_period = Highlight.objects.filter(period=period, period_start=period_start)
    if same_period.filter(**match).exists():
        raise ValidationError(
            _("This is already a highlight of %(period)s.") % {"period": span.label}
        )
    last = same_period.aggregate(last=Max("position"))["last"]
    highlight = Highlight.objects.create(
        period=period,
        period_start=period_start,
        title=title,
        text=(text or "").strip(),
        position=0 if last is None else last + 1,
        chosen_by=actor if getattr(actor, "pk", None) else None,
        **match,
    )
    audit(
        actor=actor,
        action="events.highlight.added",
        target=highlight,
        data={
            "period": span.key,
            "title": title,
            **{k: v.pk for k, v in match.items()},
        },
    )
    return highlight


@transaction.atomic
def highlight_remove(*, actor: User | None, highlight: Highlight) -> None:
    """Take a highlight off the record (the subject itself stays). Same
    scope as adding. Inverse: ``highlight_add`` again (placed last: the old
    position is not kept)."""
    highlight = (
        Highlight.objects.select_for_update(of=("self",))
        .select_related("stall__venue", "activity")
        .get(pk=highlight.pk)
    )
    if not _may_handle(actor, station_id=_subject_station_id(highlight)):
        raise PermissionDenied
    data = {
        "period": period_of(highlight.period, highlight.period_start).key,
        "title": highlight.title,
        "service_day": highlight.service_day_id,
        "stall": highlight.stall_id,
        "activity": highlight.activity_id,
    }
    audit(actor=actor, action="events.highlight.removed", target=highlight, data=data)
    highlight.delete()


UP, DOWN = "up", "down"


@transaction.atomic
def highlight_move(*, actor: User | None, highlight: Highlight, direction: str) -> Highlight:
    """Move a highlight one place up or down among its period's highlights
    (positions renumbered 0, 1, 2…). Same scope as adding. Inverse: move it
    back the other way."""
    if direction not in (UP, DOWN):
        raise ValidationError(_("Move a highlight up or down."))
    highlight = (
        Highlight.objects.select_for_update(of=("self",))
        .select_related("stall__venue", "activity")
        .get(pk=highlight.pk)
    )
    if not _may_handle(actor, station_id=_subject_station_id(highlight)):
        raise PermissionDenied
    # Lock the whole period's list: two moves at once renumber it one at a time.
    rows = list(
        Highlight.objects.select_for_update()
        .filter(period=highlight.period, period_start=highlight.period_start)
        .order_by("position", "id")
    )
    index = next(i for i, h in enumerate(rows) if h.pk == highlight.pk)
    other = index - 1 if direction == UP else index + 1
    if not 0 <= other < len(rows):
        raise ValidationError(_("It is already at that end of the list."))
    rows[index], rows[other] = rows[other], rows[index]
    changed = []
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            changed.append(row)
    Highlight.objects.bulk_update(changed, ["position"])
    audit(
        actor=actor,
        action="events.highlight.moved",
        target=highlight,
        data={"direction": direction, "position": other},
    )
    return next(r for r in rows if r.pk == highlight.pk)
