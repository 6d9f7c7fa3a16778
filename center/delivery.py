"""Messages that leave the portal: SMS and email, exactly once, through outages.

The ``Delivery`` rows are the outbox. ``notify`` (``center.notifications``)
writes them in the caller's transaction, beside the inbox row, so a
rolled-back service sends nothing and a committed one loses nothing:

1. After commit each due row is handed to the broker (``send_sms`` /
   ``send_email`` on their own queues) and marked ``queued_at``. If the
   broker is down the row simply stays unqueued.
2. ``deliveries_sweep`` (beat, every minute) hands on what is due and was
   never queued (broker down, quiet hours over, a retry's backoff elapsed),
   and what a dead worker held (an expired claim).
3. A worker *claims* a row with one conditional UPDATE (pending, due, or
   sending with an expired lease → sending, lease renewed, attempts + 1)
   before it calls the gateway. A task run twice, or redelivered after a
   worker died, finds the row claimed or sent and does nothing: one send.
   (The window left is a worker dying inside the gateway call itself: the
   gateway receives our key as ``OutId`` and drops the duplicate.)
4. A failure the next attempt may fix goes back to pending with a backoff
   (1, 2, 4, 8… minutes); after ``DELIVERY_MAX_ATTEMPTS``, or a final refusal,
   the row is failed, shown in the delivery log, and staff may resend it.

Texts are rendered at send time in the recipient's language
(``Delivery.language``) from the message key, so a message held overnight
reads as the templates say in the morning.
"""

import datetime
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import messages, sms
from .audit import audit
from .broker import publish
from .models import Delivery, Notification, User

log = logging.getLogger("center.delivery")
TZ = ZoneInfo("Asia/Shanghai")
TASKS = {
    Delivery.Channel.SMS: "center.tasks.send_sms",
    Delivery.Channel.EMAIL: "center.tasks.send_email",
}
SWEEP_BATCH = 2000


# --- when ---------------------------------------------------------------------------------


def _quiet_window() -> tuple[datetime.time, datetime.time]:
    start, end = settings.LIANXIN["QUIET_HOURS"].split("-")
    return datetime.time.fromisoformat(start.strip()), datetime.time.fromisoformat(end.strip())


def quiet_until(at: datetime.datetime) -> datetime.datetime | None:
    """The end of the quiet hours ``at`` falls in (Asia/Shanghai), or None
    when ``at`` is not in them. The window may cross midnight (21:30-07:30)."""
    start, end = _quiet_window()
    local = timezone.localtime(at, TZ)
    t = local.time()
    if start <= end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + datetime.timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.datetime.combine(end_day, end, tzinfo=TZ)


def backoff(attempts: int) -> datetime.timedelta:
    """Wait after the ``attempts``-th failed attempt: 1, 2, 4, 8… minutes, at most an hour."""
    return datetime.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- writing the outbox (inside the caller's transaction) -----------------------------------


def channels_for(
    recipient: User | None, *, phone: str = "", urgent: bool = False
) -> list[tuple[str, str]]:
    """(channel, address) pairs a message to this person goes by, beside the
    inbox: their choices, SMS whatever they chose when urgent; someone
    without a login (``recipient`` None) by SMS on ``phone``."""
    if recipient is None:
        return [(Delivery.Channel.SMS, phone)] if phone else []
    if not recipient.is_active:
        return []
    out = []
    mobile = recipient.mobile or phone
    if mobile and (recipient.notify_sms or urgent):
        out.append((Delivery.Channel.SMS, mobile))
    if recipient.email and recipient.notify_email:
        out.append((Delivery.Channel.EMAIL, recipient.email))
    return out


def deliveries_create(
    *,
    key: str,
    recipient: User | None,
    kind: str,
    message: str,
    params: dict,
    notification: Notification | None = None,
    phone: str = "",
    urgent: bool = False,
    language: str = "",
) -> list[Delivery]:
    """The outbox rows for one message to one person (one per channel),
    idempotent by ``<key>:<channel>``; handed to the broker after commit when
    due now. Call inside the transaction that caused the message."""
    now = timezone.now()
    held = None if urgent else quiet_until(now)
    language = language or (recipient.language if recipient else settings.LANGUAGE_CODE)
    created = []
    for channel, address in channels_for(recipient, phone=phone, urgent=urgent):
        delivery, new = Delivery.objects.get_or_create(
            key=f"{key}:{channel}"[:160],
            defaults={
                "notification": notification,
                "recipient": recipient,
                "channel": channel,
                "address": address,
                "kind": kind,
                "message": message,
                "params": params,
                "language": language,
                "urgent": urgent,
                "not_before": held or now,
            },
        )
        if new:
            created.append(delivery)
            if held is None:
                _queue_on_commit(delivery)
    return created


def _queue_on_commit(delivery: Delivery) -> None:
    pk, task = delivery.pk, TASKS[delivery.channel]
    transaction.on_commit(lambda: queue(pk, task))


def queue(pk: int, task: str) -> bool:
    """Hand one delivery to the broker and mark it queued; False (and the row
    left for the sweep) when the broker cannot take it."""
    # Marked before publishing: a fast worker may finish (and, failing,
    # clear the mark for the sweep) before ``publish`` returns.
    pending = Delivery.objects.filter(pk=pk, status=Delivery.Status.PENDING)
    pending.update(queued_at=timezone.now())
    if not publish(task, args=(pk,)):
        pending.update(queued_at=None)
        return False
    return True


# --- sending (the tasks' bodies) ---------------------------------------------------------------


def delivery_claim(pk: int, *, now: datetime.datetime | None = None) -> Delivery | None:
    """Claim one delivery for sending, or None if it is not to be sent now
    (sent, failed, cancelled, not yet due, or held by a live worker). One
    conditional UPDATE: of two workers, exactly one gets it."""
    now = now or timezone.now()
    lease = datetime.timedelta(seconds=settings.LIANXIN["DELIVERY_LEASE_SECONDS"])
    claimed = (
        Delivery.objects.filter(pk=pk, not_before__lte=now)
        .filter(
            Q(status=Delivery.Status.PENDING)
            | Q(status=Delivery.Status.SENDING, claimed_until__lt=now)
        )
        .update(
            status=Delivery.Status.SENDING,
            claimed_until=now + lease,
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("recipient").get(pk=pk)


def render_text(delivery: Delivery) -> tuple[str, str]:
    """(title, body) in the recipient's language."""
    with translation.override(delivery.language or settings.LANGUAGE_CODE):
        return messages.render(delivery.message, delivery.params)


def sms_text(delivery: Delivery) -> str:
    """The SMS as read: 【sign】title, then the body as its own sentence
    (a title that has a colon of its own would read "A：B：C"), cut to
    ``SMS_MAX_CHARS``."""
    title, body = render_text(delivery)
    sign = settings.LIANXIN["SMS_SIGN_NAME"]
    stop = "。" if (delivery.language or "").startswith("zh") else ". "
    joint = "" if title.endswith(("。", "！", "？", ".", "!", "?")) else stop
    text = f"【{sign}】{title}" + (f"{joint}{body}" if body else "")
    limit = settings.LIANXIN["SMS_MAX_CHARS"]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sms_template(delivery: Delivery) -> str:
    """The gateway's template code for the message in the recipient's
    language (``LIANXIN_SMS_TEMPLATES`` key ``<message>:<language>``, e.g.
    ``requests.order.taken:en``), else the message's own (the Chinese
    template, approved once); "" when the gateway has none."""
    templates = settings.LIANXIN["SMS_TEMPLATES"]
    return templates.get(f"{delivery.message}:{delivery.language}") or templates.get(
        delivery.message, ""
    )


def gateway_params(params: dict) -> dict[str, str]:
    """A template's parameters as the gateway takes them: text, each cut to
    ``SMS_PARAM_MAX_CHARS`` (gateways refuse a longer variable outright, and
    the message would be lost)."""
    limit = settings.LIANXIN["SMS_PARAM_MAX_CHARS"]
    out = {}
    for name, value in params.items():
        text = "" if value is None else str(value)
        out[name] = text if len(text) <= limit else text[: limit - 1] + "…"
    return out


def _send(delivery: Delivery) -> str:
    if delivery.channel == Delivery.Channel.SMS:
        return sms.backend().send(
            sms.Sms(
                to=delivery.address,
                text=sms_text(delivery),
                template=sms_template(delivery),
                params=gateway_params(delivery.params),
                out_id=delivery.key,
            )
        )
    title, body = render_text(delivery)
    email = EmailMessage(
        subject=title,
        body=body or title,
        to=[delivery.address],
        headers={"X-Lianxin-Delivery": delivery.key},
    )
    try:
        email.send()
    except OSError as exc:  # SMTP down, refused, timed out: try again later
        raise sms.SendError(f"mail server: {exc.__class__.__name__}") from exc
    return ""


def _no_longer_wanted(delivery: Delivery, *, now: datetime.datetime) -> str:
    """Why a claimed delivery is not to be sent after all ("" to send it),
    decided at send time, since a message may have been held for hours:
    the recipient has since turned this channel off (an emergency goes by
    SMS whatever they chose), or the message is stale (``Message.stale_after``:
    an offer held through the night). Also picks up the recipient's current
    language."""
    user = delivery.recipient
    if user is not None:
        if not user.is_active:
            return "the recipient's login is switched off"
        if delivery.channel == Delivery.Channel.SMS and not (user.notify_sms or delivery.urgent):
            return "the recipient turned SMS off"
        if delivery.channel == Delivery.Channel.EMAIL and not (user.notify_email and user.email):
            return "the recipient turned email off"
        delivery.language = user.language or delivery.language
    message = messages.MESSAGES.get(delivery.message)
    stale = getattr(message, "stale_after", None)
    if stale is not None and not delivery.urgent and now - delivery.created_at > stale:
        return "stale: held longer than the message is useful"
    return ""


def delivery_send(*, delivery_id: int, now: datetime.datetime | None = None) -> str:
    """Claim, send and record one delivery; returns what happened ("sent",
    "retry", "failed", "cancelled", "skipped"). Safe to run any number of times."""
    delivery = delivery_claim(delivery_id, now=now)
    if delivery is None:
        return "skipped"
    reason = _no_longer_wanted(delivery, now=now or timezone.now())
    if reason:
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.CANCELLED, claimed_until=None, last_error=reason
        )
        return "cancelled"
    try:
        gateway_id = _send(delivery)
    except sms.SendError as exc:
        return _failed(delivery, str(exc), retryable=exc.retryable)
    except Exception as exc:  # a bug or a library's surprise: recorded, retried, then failed
        log.exception("delivery %s failed", delivery.pk)
        return _failed(delivery, f"{exc.__class__.__name__}: {exc}", retryable=True)
    done = {
        "status": Delivery.Status.SENT,
        "sent_at": timezone.now(),
        "gateway_id": gateway_id[:100],
        "claimed_until": None,
        "last_error": "",
    }
    secret = getattr(messages.MESSAGES.get(delivery.message), "secret", ())
    if secret:
        # Gone with the message: the outbox keeps no secret in clear.
        done["params"] = {k: ("***" if k in secret else v) for k, v in delivery.params.items()}
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(**done)
    return "sent"


def _failed(delivery: Delivery, error: str, *, retryable: bool) -> str:
    final = not retryable or delivery.attempts >= settings.LIANXIN["DELIVERY_MAX_ATTEMPTS"]
    update = {"last_error": error[:500], "claimed_until": None, "queued_at": None}
    if final:
        update["status"] = Delivery.Status.FAILED
        log.warning("delivery %s failed for good: %s", delivery.pk, error)
    else:
        update["status"] = Delivery.Status.PENDING
        update["not_before"] = timezone.now() + backoff(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(**update)
    return "failed" if final else "retry"


def deliveries_sweep(*, now: datetime.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Hand to the broker every due delivery that no task is on its way for:
    never queued (the broker was down, quiet hours ended, a backoff
    elapsed), queued longer ago than the broker's redelivery time (lost), or
    claimed by a worker whose lease ran out. Oldest first, at most ``limit``;
    stops at the first refusal (the broker is down: next minute). Returns how
    many were handed on."""
    now = now or timezone.now()
    lost = now - datetime.timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 900)
    )
    due = (
        Delivery.objects.filter(not_before__lte=now)
        .filter(
            Q(status=Delivery.Status.PENDING, queued_at__isnull=True)
            | Q(status=Delivery.Status.PENDING, queued_at__lt=lost)
            | Q(status=Delivery.Status.SENDING, claimed_until__lt=now)
        )
        .order_by("not_before", "id")
        .values_list("pk", "channel")[:limit]
    )
    handed = 0
    for pk, channel in due:
        if not queue(pk, TASKS[channel]):
            break
        handed += 1
    return handed


@transaction.atomic
def delivery_resend(*, actor: User, delivery: Delivery) -> Delivery:
    """Send a failed (or cancelled) delivery again, now: staff, from the
    delivery log or the back office. Inverse: none (it is a new attempt)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status not in (Delivery.Status.FAILED, Delivery.Status.CANCELLED):
        raise ValidationError(_("Only a failed or cancelled message can be sent again."))
    before = delivery.status
    delivery.status = Delivery.Status.PENDING
    delivery.attempts = 0
    delivery.not_before = timezone.now()
    delivery.queued_at = None
    delivery.claimed_until = None
    delivery.save(update_fields=["status", "attempts", "not_before", "queued_at", "claimed_until"])
    audit(actor=actor, action="center.delivery.resent", target=delivery, data={"was": before})
    _queue_on_commit(delivery)
    return delivery
