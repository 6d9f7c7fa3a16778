"""Reads for the delivery log (issue 13): which deliveries a staff member
sees, the rows of one page, and the failures of the last day.

Deliveries may number tens of millions (every reminder to every provider,
by SMS and email). Every read here walks an index of ``Delivery``
(``delivery_log``, ``delivery_status``, ``delivery_recipient``) and stops
after a page or a capped count: nothing counts the whole table.

Who sees what (one place, so no page forgets it):

- center managers: every delivery;
- station managers: deliveries to the managers of the stations in their
  scope (themselves and the managers under them). Center may not import
  the volunteers app, so the home station of a volunteer or merchant is not
  known here; their deliveries (and residents', who have no login) are the
  center managers' to look after. Only center managers resend.
- anyone else: nothing (the page answers 403).
"""

import datetime

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from . import messages
from .masking import mask_email, mask_mobile
from .models import Delivery, User
from .roles import ALL, is_center_manager, is_manager, station_ids_for

ALL_RECIPIENTS = None  # sentinel: no restriction


def can_read_delivery_log(user) -> bool:
    return is_manager(user)


def can_resend(user) -> bool:
    return is_center_manager(user)


def delivery_recipient_ids(user) -> list[int] | None:
    """The recipients whose deliveries ``user`` may see: None for all (center
    managers); the managers of their stations for a station manager (tens of
    users: one query, kept on the user object for the request); [] for
    anyone else."""
    if is_center_manager(user):
        return ALL_RECIPIENTS
    if not is_manager(user):
        return []
    cached = getattr(user, "_lianxin_delivery_recipients", None)
    if cached is None:
        ids = station_ids_for(user)
        if ids is ALL:
            return ALL_RECIPIENTS
        managers = User.objects.filter(stations__in=ids).values_list("pk", flat=True)
        cached = user._lianxin_delivery_recipients = sorted({*managers, user.pk})
    return cached


def delivery_list(*, user) -> QuerySet[Delivery]:
    """The deliveries ``user`` may see, newest first (delivery_log), with the
    recipient for the name column."""
    recipients = delivery_recipient_ids(user)
    qs = Delivery.objects.select_related("recipient").order_by("-created_at", "-id")
    if recipients is ALL_RECIPIENTS:
        return qs
    return qs.filter(recipient_id__in=recipients) if recipients else qs.none()


def get_delivery_for_user(*, user, pk: int) -> Delivery:
    try:
        return delivery_list(user=user).get(pk=pk)
    except Delivery.DoesNotExist as exc:
        raise Http404 from exc


def failed_recently(*, user, now: datetime.datetime | None = None) -> dict[str, int]:
    """Failed deliveries created in the last 24 hours, by channel: one
    GROUP BY over the range of delivery_status (status, -created_at), so it
    reads the day's failures only, however large the table."""
    recipients = delivery_recipient_ids(user)
    since = (now or timezone.now()) - datetime.timedelta(hours=24)
    qs = Delivery.objects.filter(status=Delivery.Status.FAILED, created_at__gte=since)
    if recipients is not ALL_RECIPIENTS:
        if not recipients:
            return {}
        qs = qs.filter(recipient_id__in=recipients)
    return dict(qs.order_by().values_list("channel").annotate(n=Count("pk")))


def masked_address(delivery: Delivery) -> str:
    if delivery.channel == Delivery.Channel.EMAIL:
        return mask_email(delivery.address)
    return mask_mobile(delivery.address)


def with_display(rows) -> list[Delivery]:
    """Set on each row what the log shows, in the viewer's language (the
    active one): ``title`` (the message as rendered now, the key when the key
    is gone), ``masked``, ``status_label``, ``channel_label``. No query."""
    status = {k: str(v) for k, v in Delivery.Status.choices}
    channel = {k: str(v) for k, v in Delivery.Channel.choices}
    rows = list(rows)
    for d in rows:
        d.title = messages.render(d.message, d.params, fallback=(d.message, ""))[0]
        d.masked = masked_address(d)
        d.status_label = status.get(d.status, d.status)
        d.channel_label = channel.get(d.channel, d.channel)
        d.can_resend = d.status in (Delivery.Status.FAILED, Delivery.Status.CANCELLED)
    return rows
