"""The hotline: residents, work orders (工单), offers, the order timeline,
follow-up calls and one-key call devices."""

import re
import unicodedata

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Right
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from center.masking import mask_id_number, mask_mobile
from center.models import Area, ServiceItem, Station
from center.validators import normalize_phone, validate_id_number, validate_phone
from volunteers.models import Complaint, Organization, Provider, Volunteer


class Resident(models.Model):
    """A caller or the person served. Special-group memberships
    (``ResidentGroup``), sensitive data (``ResidentSensitive``, consented,
    masked, access-logged), pairings and care visits point here."""

    name = models.CharField(_("name"), max_length=64)
    address = models.CharField(_("address"), max_length=200, blank=True)
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"level": Area.Level.COMMUNITY},
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # Hardship or special group: the center's price is waived.
    is_free = models.BooleanField(
        _("served free"), default=False, help_text=_("Hardship or special group: no fee.")
    )
    notes = models.TextField(
        _("notes"),
        blank=True,
        help_text=_("Shown to every operator: no health or disability facts here."),
    )
    # Kept by the group services: True while the resident belongs to a special group.
    is_special = models.BooleanField(_("special group"), db_default=False, editable=False)
    # The latest visit, call or order (care lists: "silent" residents); kept by
    # order_create and care_visit_record.
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The registration form's one-time key: the same form posted twice is one resident.
    intake_key = models.UUIDField(
        _("intake key"), null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["-id"]
        indexes = [
            # Name search by its beginning (requests.selectors.resident_search):
            # pattern ops let LIKE 'x%' use the index under any collation.
            models.Index(
                fields=["name"], name="resident_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["community"]),
            # The registry's lists and the silent-resident list: special-group
            # residents of some communities, by last contact.
            models.Index(
                fields=["community", "last_contact_at"],
                condition=Q(is_special=True),
                name="resident_special_contact",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("requests:resident_detail", args=[self.pk])

    def served_free(self, item: ServiceItem) -> bool:
        """The fee rule, stated once (``order_create`` applies it): free when
        the resident is marked free, or belongs to a special group and the
        item is free for special groups."""
        return self.is_free or (self.is_special and item.free_for_special_groups)


class ResidentPhone(models.Model):
    """Phone numbers a resident calls from; the console looks callers up here by prefix."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(_("number"), max_length=20, validators=[validate_phone])
    label = models.CharField(_("label"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("resident phone")
        verbose_name_plural = _("resident phones")
        constraints = [
            models.UniqueConstraint(fields=["resident", "number"], name="residentphone_unique")
        ]
        # varchar_pattern_ops lets PostgreSQL serve `LIKE '138%'` from the index.
        indexes = [
            models.Index(
                fields=["number"],
                name="residentphone_number_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            # Call centers search by the last digits (尾号): the last four are indexed.
            models.Index(Right("number", 4), name="residentphone_tail4"),
        ]

    def __str__(self) -> str:
        return self.masked

    def clean(self) -> None:
        self.number = normalize_phone(self.number)

    @property
    def masked(self) -> str:
        return mask_mobile(self.number)


class ResidentContact(models.Model):
    """Family, community worker, neighbours: shown at once when a device calls,
    in ``priority`` order (1 is called first)."""

    class Kind(models.TextChoices):
        FAMILY = "family", _("Family")
        COMMUNITY = "community", _("Community worker")
        NEIGHBOUR = "neighbour", _("Neighbour")
        OTHER = "other", _("Other")

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=64)
    relation = models.CharField(_("relation"), max_length=32)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, db_default=Kind.FAMILY)
    priority = models.PositiveSmallIntegerField(
        _("call order"), db_default=1, help_text=_("1 is called first.")
    )

    class Meta:
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.relation} {self.name}"

    def clean(self) -> None:
        self.phone = normalize_phone(self.phone)

    @property
    def masked_phone(self) -> str:
        return mask_mobile(self.phone)


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    WALK_IN = "walk_in", _("Walk-in")
    DEVICE = "device", _("One-key device")
    WEB = "web", _("Web")
    VISIT = "visit", _("Care visit")


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")


class ServiceRequest(models.Model):
    """A work order (工单)."""

    class Kind(models.TextChoices):
        HELP = "help", _("Request for help")
        ENQUIRY = "enquiry", _("Enquiry")
        COMPLAINT = "complaint", _("Complaint")
        SUGGESTION = "suggestion", _("Suggestion")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        DISPATCHED = "dispatched", _("Dispatched")
        TAKEN = "taken", _("Taken")
        ON_THE_WAY = "on_the_way", _("On the way")
        ARRIVED = "arrived", _("Arrived")
        COMPLETED = "completed", _("Completed")
        ARCHIVED = "archived", _("Followed up and archived")
        CANCELLED = "cancelled", _("Cancelled")

    class Mode(models.TextChoices):
        ASSIGN = "assign", _("Assigned by the operator")
        OFFER = "offer", _("Offered (first to accept)")

    OPEN = (Status.RECEIVED, Status.DISPATCHED, Status.TAKEN, Status.ON_THE_WAY, Status.ARRIVED)
    # The order's rules, stated once: which step is possible from which status.
    # Services check them (``check``), templates and step views ask ``can``.
    TRANSITIONS = {
        "offer": (Status.RECEIVED,),
        "assign": (Status.RECEIVED,),
        "take": (Status.DISPATCHED,),
        "on_the_way": (Status.TAKEN,),
        "arrive": (Status.TAKEN, Status.ON_THE_WAY),
        # Completing before arrival was reported records the arrival then (flagged).
        "complete": (Status.TAKEN, Status.ON_THE_WAY, Status.ARRIVED),
        "return": (Status.DISPATCHED, Status.TAKEN, Status.ON_THE_WAY),
        "cancel": OPEN,
        "urge": OPEN,
        "merge": OPEN,
        "follow_up": (Status.COMPLETED,),
    }

    # Unique by a constraint, not unique=True: that would add a second,
    # pattern-ops index (194 MB at 5M orders) for LIKE searches we never run.
    number = models.CharField(_("order number"), max_length=20)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.HELP)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.HOTLINE
    )
    urgency = models.CharField(
        _("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    caller_phone = models.CharField(
        _("caller number"), max_length=20, blank=True, validators=[validate_phone]
    )
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("service item"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=200)
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    preferred_time = models.DateTimeField(_("preferred time"), null=True, blank=True)
    quoted_price = models.DecimalField(_("quoted price (yuan)"), max_digits=8, decimal_places=2)
    fee_waived = models.BooleanField(_("fee waived"), default=False)
    # Dispatch
    mode = models.CharField(_("dispatch mode"), max_length=8, choices=Mode.choices, blank=True)
    offer_ring = models.PositiveSmallIntegerField(_("offer ring"), default=0)
    ring_started_at = models.DateTimeField(_("current ring offered at"), null=True, blank=True)
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    # Times of each step (the closed loop of the national hotline rules)
    received_at = models.DateTimeField(_("received at"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    on_the_way_at = models.DateTimeField(_("on the way at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Response (received → taken) and arrival (taken → arrived), kept for reports.
    response_seconds = models.PositiveIntegerField(_("response time (s)"), null=True, blank=True)
    arrival_seconds = models.PositiveIntegerField(_("arrival time (s)"), null=True, blank=True)
    # True when the provider completed without reporting arrival: arrived_at is
    # then the completion time, and reports leave it out of the arrival-time
    # measure (the target is settings.LIANXIN["DISPATCH_TARGET_MINUTES"]).
    arrival_unreported = models.BooleanField(_("arrival not reported"), default=False)
    urge_count = models.PositiveSmallIntegerField(_("times urged"), default=0)
    last_urged_at = models.DateTimeField(_("last urged at"), null=True, blank=True)
    repeat_calls = models.PositiveSmallIntegerField(_("repeat calls merged"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    work_notes = models.TextField(_("what was done"), blank=True)
    fee_charged = models.DecimalField(
        _("fee charged (yuan)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    fee_reason = models.CharField(_("reason for a fee above the quote"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The order form's one-time key: the same form posted twice is one order.
    intake_key = models.UUIDField(
        _("intake key"), null=True, blank=True, unique=True, editable=False
    )
    # Dispatch rounds: +1 on every return (退单) and reopen (重办).
    dispatch_round = models.PositiveSmallIntegerField(_("dispatch round"), default=0)
    # A device call's alert on the console, dismissed by a staff member.
    alert_acknowledged_at = models.DateTimeField(_("alert acknowledged at"), null=True, blank=True)
    alert_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("alert acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["number"], name="order_number_unique")]
        indexes = [
            # Which query each index serves: docs/performance.md "Indexes".
            # The foreign keys resident, item, station and provider carry no
            # index of their own: a composite below leads with each.
            models.Index(fields=["-received_at", "-id"], name="order_received"),
            # The search by the number that called (selectors.order_search).
            models.Index(fields=["caller_phone"], name="order_caller_phone"),
            models.Index(fields=["status", "-received_at"], name="order_status"),
            models.Index(fields=["station", "status", "-received_at"], name="order_station_status"),
            models.Index(fields=["station", "-received_at", "-id"], name="order_station"),
            models.Index(fields=["item", "-received_at"], name="order_item"),
            models.Index(fields=["channel", "-received_at"], name="order_channel"),
            models.Index(fields=["urgency", "status", "received_at"], name="order_urgency_open"),
            models.Index(fields=["provider", "status"], name="order_provider"),
            models.Index(fields=["resident", "-received_at"], name="order_resident"),
            models.Index(fields=["status", "completed_at"], name="order_followup_queue"),
            models.Index(fields=["status", "mode", "ring_started_at"], name="order_offer_sweep"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("requests:order_detail", args=[self.pk])

    # The provider's volunteer, merchant or team (select_related
    # "provider__volunteer" etc. where a list shows them).
    @property
    def volunteer(self):
        return self.provider.volunteer if self.provider_id else None

    @property
    def merchant(self):
        return self.provider.merchant if self.provider_id else None

    @property
    def team(self):
        return self.provider.team if self.provider_id else None

    def can(self, step: str) -> bool:
        return self.status in self.TRANSITIONS[step]

    # Named checks for templates ({% if order.can_take %}).
    can_offer = property(lambda self: self.can("offer"))
    can_assign = property(lambda self: self.can("assign"))
    can_take = property(lambda self: self.can("take"))
    can_set_off = property(lambda self: self.can("on_the_way"))
    can_arrive = property(lambda self: self.can("arrive"))
    can_complete = property(lambda self: self.can("complete"))
    can_return = property(lambda self: self.can("return"))
    can_cancel = property(lambda self: self.can("cancel"))
    can_urge = property(lambda self: self.can("urge"))
    can_follow_up = property(lambda self: self.can("follow_up"))

    @property
    def arrival_minutes(self) -> int | None:
        return None if self.arrival_seconds is None else round(self.arrival_seconds / 60)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def price_due(self):
        return 0 if self.fee_waived else self.quoted_price

    @property
    def masked_caller_phone(self) -> str:
        return mask_mobile(self.caller_phone)


class OrderOffer(models.Model):
    """An order offered to a provider (抢单): the first to accept wins.

    ``round`` counts dispatch rounds: a return (退单) or reopen (重办) starts a
    new round, so the same provider may be offered the order again, except
    whoever returned it (status RETURNED, excluded in every later round)."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        LOST = "lost", _("Taken by someone else")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        RETURNED = "returned", _("Returned by this provider")

    order = models.ForeignKey(
        ServiceRequest, verbose_name=_("order"), on_delete=models.CASCADE, related_name="offers"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.CASCADE, related_name="offers"
    )
    round = models.PositiveSmallIntegerField(_("dispatch round"), default=0)
    ring = models.PositiveSmallIntegerField(_("ring"))
    distance_km = models.DecimalField(
        _("distance (km)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    minutes = models.PositiveIntegerField(_("estimated minutes"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OFFERED
    )
    offered_at = models.DateTimeField(_("offered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        constraints = [
            models.UniqueConstraint(fields=["order", "provider", "round"], name="orderoffer_unique")
        ]
        indexes = [models.Index(fields=["provider", "status", "-offered_at"], name="offer_inbox")]

    def __str__(self) -> str:
        return f"{self.order} → {self.provider}"


class OrderEvent(models.Model):
    """The order's timeline: each step, who took it, when, with its note
    (requests.order.<verb>), shown on the order page. ``services._event``
    writes it together with the one cross-app audit log (``center.AuditEntry``,
    same action), so a step has both or neither."""

    order = models.ForeignKey(
        ServiceRequest, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="orderevent_order")]

    def __str__(self) -> str:
        return f"{self.order} {self.action}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action.rsplit(".", 1)[-1], self.action))


EVENT_LABELS = {
    "received": _("Received"),
    "merged": _("Repeat call merged"),
    "assigned": _("Assigned"),
    "offered": _("Offered"),
    "taken": _("Taken"),
    "on_the_way": _("On the way"),
    "arrived": _("Arrived"),
    "completed": _("Completed"),
    "followed_up": _("Followed up and archived"),
    "alert_acknowledged": _("Alert acknowledged"),
    "reopened": _("Reopened"),
    "returned": _("Returned"),
    "cancelled": _("Cancelled"),
    "urged": _("Urged"),
    "offer_exhausted": _("No taker after the last ring"),
}


class FollowUp(models.Model):
    """The call back after completion (回访)."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY = "basically", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Not satisfied")

    order = models.ForeignKey(
        ServiceRequest, verbose_name=_("order"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    # The provider who did the work, kept even if the order is reopened and re-dispatched.
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("provider"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, choices=Satisfaction.choices)
    score = models.PositiveSmallIntegerField(_("score (1–5)"))
    words = models.TextField(_("the resident's words"), blank=True)
    reopened = models.BooleanField(_("reopened"), default=False)
    # The complaint this call raised (the arrow runs requests → volunteers:
    # the complaint page reaches its order through ``complaint.follow_up``).
    complaint = models.OneToOneField(
        Complaint,
        verbose_name=_("complaint"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_up",
    )

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="followup_score_range"
            )
        ]
        indexes = [
            models.Index(fields=["provider", "-at"], name="followup_provider"),
            # Today's follow-ups on the dashboards (reports.selectors_dashboard).
            models.Index(fields=["at"], name="followup_at"),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.get_satisfaction_display()}"


# What the call endpoint accepts as a device id; registering one it would
# refuse is refused too.
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")  # explicit ASCII classes
validate_device_id = RegexValidator(
    DEVICE_ID_RE,
    _("A device id is up to 40 letters, digits and . _ : - starting with a letter or digit."),
)


class Device(models.Model):
    """A one-key call device (一键通) registered to a resident."""

    device_id = models.CharField(
        _("device id"), max_length=40, unique=True, validators=[validate_device_id]
    )
    secret_hash = models.CharField(_("secret (hashed)"), max_length=128)
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="devices"
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_call_at = models.DateTimeField(_("last call"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("one-key device")
        verbose_name_plural = _("one-key devices")

    def __str__(self) -> str:
        return self.device_id


class DeviceCall(models.Model):
    """Every call a device endpoint received, good or bad."""

    device_id = models.CharField(_("device id"), max_length=40)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    ok = models.BooleanField(_("accepted"))
    error = models.CharField(_("error"), max_length=100, blank=True)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    order = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("device call")
        verbose_name_plural = _("device calls")
        ordering = ["-at"]
        indexes = [models.Index(fields=["device_id", "-at"], name="devicecall_device")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.at}"


class OrderMonthStat(models.Model):
    """The monthly figures of the orders received at one station in one
    service category: what the month's report and dashboards read, instead
    of aggregating ~100,000 orders on every view. Rebuilt set-based by
    ``services.order_month_stats_refresh`` (every few minutes for the current
    month, nightly for the one before), never edited by hand."""

    month = models.DateField(_("month"))  # the first day
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "center.ServiceCategory",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    received = models.PositiveIntegerField(_("received"), default=0)
    completed = models.PositiveIntegerField(_("completed"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    # Arrivals reported by the provider (not recorded at completion), and those
    # within the target minutes (settings DISPATCH_TARGET_MINUTES).
    arrivals = models.PositiveIntegerField(_("arrivals reported"), default=0)
    arrivals_in_target = models.PositiveIntegerField(_("arrivals in target time"), default=0)
    arrival_seconds = models.BigIntegerField(_("arrival seconds, total"), default=0)
    # The rest of docs/metrics.md's counts, so that trends and city-wide
    # dashboards sum this table instead of millions of orders (issue 14).
    dispatched = models.PositiveIntegerField(_("dispatched"), default=0)
    taken_in_target = models.PositiveIntegerField(_("taken in target time"), default=0)
    arrivals_unreported = models.PositiveIntegerField(_("arrivals not reported"), default=0)
    follow_ups = models.PositiveIntegerField(_("follow-ups done"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("monthly order figures")
        verbose_name_plural = _("monthly order figures")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "station", "category"], name="ordermonthstat_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.station_id}/{self.category_id}"


# --- Calls and unmatched requests (issue 14) ---------------------------------


class CallLog(models.Model):
    """One call handled at the hotline, whether or not it made an order
    (咨询 answered on the phone, a complaint, a resident ringing again about
    an open order): what "800 calls a day" counts, apart from orders.
    Written by ``services.calls.call_record`` only."""

    class Kind(models.TextChoices):
        ORDER = "order", _("New order")
        ENQUIRY = "enquiry", _("Enquiry")
        COMPLAINT = "complaint", _("Complaint")
        REPEAT = "repeat", _("Repeat call")

    at = models.DateTimeField(_("call time"))
    number = models.CharField(
        _("caller number"), max_length=20, blank=True, validators=[validate_phone]
    )
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_index=False,
    )
    kind = models.CharField(_("kind of call"), max_length=16, choices=Kind.choices)
    # The order the call made or was about (repeat calls, complaints).
    order = models.ForeignKey(
        "ServiceRequest",
        verbose_name=_("work order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    # Where the call is counted: the order's station, else the resident's
    # community's station; empty when neither is known (city-wide only).
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # What the call was about: the order's item's category, or the one the
    # operator chose for an enquiry.
    category = models.ForeignKey(
        "center.ServiceCategory",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("call log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="call_at"),
            models.Index(fields=["station", "-at"], name="call_station"),
            # The call log's kind filter, city-wide and for a station's calls.
            models.Index(fields=["kind", "-at"], name="call_kind"),
            models.Index(fields=["station", "kind", "-at"], name="call_station_kind"),
            models.Index(fields=["operator", "-at"], name="call_operator"),
            models.Index(fields=["resident", "-at"], name="call_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def masked_number(self) -> str:
        return mask_mobile(self.number)


def unmatched_words(text: str) -> str:
    """The grouping key of an unmatched request's words: Unicode NFKC (full-
    width letters and digits become ordinary ones), case-folded, and every
    punctuation mark, space or invisible character removed (Unicode
    categories P*, Z*, C*). "代买药", " 代买药。" and "代买 药" are one group;
    nothing else is merged (no synonyms, no word splitting). Kept on the row
    (``UnmatchedRequest.words``) so the weathervane's groups and the list's
    word filter agree."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


class UnmatchedRequest(models.Model):
    """A need that matches no catalogue item, kept in the caller's words with
    a category rather than forced into an item; and suggestions collected at
    community talks (社区议事), counted with them. The weathervane groups
    them so managers can add items and place stations.
    Written by ``services.calls.unmatched_record`` only."""

    class Source(models.TextChoices):
        CALL = "call", _("Hotline call")
        TALK = "talk", _("Community talk")

    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    text = models.CharField(_("what was asked for"), max_length=200)
    words = models.CharField(
        _("words, normalised"), max_length=200, blank=True, default="", editable=False
    )
    category = models.ForeignKey(
        "center.ServiceCategory",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Area.Level.COMMUNITY},
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    call = models.ForeignKey(
        CallLog,
        verbose_name=_("call"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="unmatched",
    )
    # A talk: where and which meeting; how many people raised it there.
    occasion = models.CharField(_("meeting"), max_length=120, blank=True)
    mentions = models.PositiveSmallIntegerField(_("people who raised it"), default=1)
    occurred_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unmatched request")
        verbose_name_plural = _("unmatched requests")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["occurred_on"], name="unmatched_date"),
            models.Index(fields=["station", "occurred_on"], name="unmatched_station"),
        ]

    def __str__(self) -> str:
        return self.text


# --- Special groups, consent, care (issue 11) ------------------------------


class SpecialGroup(models.Model):
    """A group of the special-group registry (特殊群体). A resident may belong
    to several; the center adds its own in the back office."""

    class Kind(models.TextChoices):
        PLAIN = "plain", _("Membership only")
        DISABILITY = "disability", _("Disability: category and level")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PLAIN)
    # Membership itself is health data (disability): saved only under consent,
    # masked for roles that do not need it.
    is_sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Membership is health data: needs the resident's consent and is masked."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("special group")
        verbose_name_plural = _("special groups")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class DisabilityCategory(models.TextChoices):
    """As on the disability certificate (残疾人证)."""

    VISION = "vision", _("Visual")
    HEARING = "hearing", _("Hearing")
    SPEECH = "speech", _("Speech")
    PHYSICAL = "physical", _("Physical")
    INTELLECTUAL = "intellectual", _("Intellectual")
    MENTAL = "mental", _("Mental")
    MULTIPLE = "multiple", _("Multiple")


class DisabilityLevel(models.IntegerChoices):
    ONE = 1, _("Level 1")
    TWO = 2, _("Level 2")
    THREE = 3, _("Level 3")
    FOUR = 4, _("Level 4")


class ResidentGroup(models.Model):
    """A resident's membership of a special group, with the facts checked and
    who checked them. Written only by the registry services, which keep
    ``Resident.is_special``."""

    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.CASCADE,
        related_name="groups",
        db_index=False,  # residentgroup_unique leads with it
    )
    group = models.ForeignKey(
        SpecialGroup,
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        related_name="members",
        db_index=False,  # residentgroup_group
    )
    disability_category = models.CharField(
        _("disability category"), max_length=16, choices=DisabilityCategory.choices, blank=True
    )
    disability_level = models.PositiveSmallIntegerField(
        _("disability level"), choices=DisabilityLevel.choices, null=True, blank=True
    )
    verified_on = models.DateField(_("verified on"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("special-group membership")
        verbose_name_plural = _("special-group memberships")
        constraints = [
            models.UniqueConstraint(fields=["resident", "group"], name="residentgroup_unique")
        ]
        # The registry's group filter.
        indexes = [models.Index(fields=["group", "resident"], name="residentgroup_group")]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.group_id}"


class ConsentScope(models.TextChoices):
    """What a resident's separate consent (单独同意, PIPL art. 29) covers."""

    HEALTH = "health", _("Health notes")
    DISABILITY = "disability", _("Disability")
    ID_NUMBER = "id_number", _("ID number")


class ResidentConsent(models.Model):
    """The resident's separate consent to sensitive personal information:
    recorded before any such field is saved; withdrawn, it stops new saves
    (what is held is cleared by the withdrawal service)."""

    class Method(models.TextChoices):
        SIGNED = "signed", _("Signed form")
        VERBAL = "verbal", _("Verbal, recorded call")
        GUARDIAN = "guardian", _("Signed by a guardian")

    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.CASCADE,
        related_name="consents",
        db_index=False,  # consent_resident
    )
    scope = models.JSONField(_("scope"), default=list)  # ConsentScope values
    method = models.CharField(_("how"), max_length=12, choices=Method.choices)
    given_on = models.DateField(_("given on"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "-id"]
        indexes = [models.Index(fields=["resident", "-given_on"], name="consent_resident")]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.given_on}"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


class ResidentSensitive(models.Model):
    """Sensitive personal information of a resident (PIPL): saved only under
    a consent in force covering the field, shown masked unless the role needs
    it, every showing and export logged (``center.audit.pii_shown``)."""

    resident = models.OneToOneField(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="sensitive"
    )
    id_number = models.CharField(
        _("ID number"), max_length=18, blank=True, validators=[validate_id_number]
    )
    health_notes = models.TextField(_("health notes"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sensitive information")
        verbose_name_plural = _("sensitive information")

    def __str__(self) -> str:
        return str(self.resident_id)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class Pairing(models.Model):
    """结对: a volunteer (usually an in-service party member) who visits a
    resident every ``cadence_days``; several per resident. 专人管: when the
    resident calls, the paired member is offered the order first."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="pairings"
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="pairings"
    )
    cadence_days = models.PositiveSmallIntegerField(_("visit every (days)"))
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True)
    last_visit_on = models.DateField(_("last visit"), null=True, blank=True)
    # Kept by the care services: last visit (or start) + cadence.
    next_visit_due = models.DateField(_("next visit due"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["next_visit_due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "volunteer"],
                condition=Q(ended_on__isnull=True),
                name="pairing_active_unique",
            )
        ]
        indexes = [
            # Overdue visits, city-wide or for a station's residents.
            models.Index(
                fields=["next_visit_due"],
                condition=Q(ended_on__isnull=True),
                name="pairing_due",
            ),
            # A member's residents, most overdue first.
            models.Index(
                fields=["volunteer", "next_visit_due"],
                condition=Q(ended_on__isnull=True),
                name="pairing_volunteer_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} ↔ {self.resident_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class CareVisit(models.Model):
    """A care visit (上门走访): who went, when, what they found and how long
    it took (credited as service hours, source care visit)."""

    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,  # carevisit_resident
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,  # carevisit_volunteer
    )
    pairing = models.ForeignKey(
        Pairing,
        verbose_name=_("pairing"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    visited_on = models.DateField(_("visited on"))
    minutes = models.PositiveSmallIntegerField(_("minutes spent"))
    found = models.TextField(_("what was found"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("care visit")
        verbose_name_plural = _("care visits")
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["resident", "-visited_on"], name="carevisit_resident"),
            models.Index(fields=["volunteer", "-visited_on"], name="carevisit_volunteer"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.visited_on}"


class CareSlot(models.Model):
    """Rota care (轮流照护): one visit of a resident's schedule, taken by one
    of several volunteers (one winner), done when its visit is recorded."""

    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.CASCADE,
        related_name="care_slots",
        db_index=False,  # careslot_unique
    )
    due_on = models.DateField(_("due on"))
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_slots",
        db_index=False,  # careslot_volunteer
    )
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    visit = models.OneToOneField(
        CareVisit,
        verbose_name=_("visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="slot",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rota slot")
        verbose_name_plural = _("rota slots")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["resident", "due_on"], name="careslot_unique")
        ]
        indexes = [
            models.Index(
                fields=["due_on"], condition=Q(volunteer__isnull=True), name="careslot_open"
            ),
            models.Index(fields=["volunteer", "due_on"], name="careslot_volunteer"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.due_on}"


# --- Micro-wishes (微心愿) --------------------------------------------------


class MicroWish(models.Model):
    """A resident's small wish, adopted online by volunteers or organizations.

    draft → verified → published → adopted → contacted → fulfilled → confirmed;
    withdrawn (with a reason) before it is fulfilled; an adoption not
    contacted in time can be released (adopted → published); a published
    wish past its deadline rolls over to the next round with priority.
    ``TRANSITIONS`` is the one statement of it: services check it, templates
    ask ``can(step)``."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("Goods")
        SERVICE = "service", _("A service")
        COMPANY = "company", pgettext_lazy("wish kind", "Company")  # 陪伴, not 企业

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        VERIFIED = "verified", _("Verified")
        PUBLISHED = "published", _("Published")
        ADOPTED = "adopted", _("Adopted")
        CONTACTED = "contacted", _("Family contacted")
        FULFILLED = "fulfilled", _("Fulfilled")
        CONFIRMED = "confirmed", _("Confirmed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Source(models.TextChoices):
        VISIT = "visit", _("Care visit")
        PHONE = "phone", _("Phone call")
        COMMUNITY = "community", _("Community")
        ONLINE = "online", _("Online")

    S = Status
    # step → (states it may start from, state it ends in)
    TRANSITIONS = {
        "verify": ((S.DRAFT,), S.VERIFIED),
        "publish": ((S.VERIFIED,), S.PUBLISHED),
        "adopt": ((S.PUBLISHED,), S.ADOPTED),  # when the last share is taken
        "release": ((S.ADOPTED,), S.PUBLISHED),
        "contact": ((S.ADOPTED,), S.CONTACTED),
        "fulfil": ((S.CONTACTED,), S.FULFILLED),
        "confirm": ((S.FULFILLED,), S.CONFIRMED),
        "rollover": ((S.PUBLISHED,), S.PUBLISHED),
        "withdraw": ((S.DRAFT, S.VERIFIED, S.PUBLISHED, S.ADOPTED, S.CONTACTED), S.WITHDRAWN),
    }
    # What the public wall lists (and what a shared link shows).
    ON_WALL = (S.PUBLISHED, S.ADOPTED, S.CONTACTED, S.FULFILLED, S.CONFIRMED)

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="wishes"
    )
    # Copied from the resident when created: the wall filters by them and a
    # station's campaign view counts them without a join.
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Area.Level.COMMUNITY},
        db_index=False,  # wish_community
    )
    district = models.ForeignKey(
        Area,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # wish_district
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        on_delete=models.PROTECT,
        related_name="wishes",
        db_index=False,  # wish_station
    )
    title = models.CharField(_("wish"), max_length=100)
    description = models.TextField(_("details"), blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    estimated_cost = models.DecimalField(
        _("estimated cost (yuan)"), max_digits=8, decimal_places=2, default=0
    )
    shares = models.PositiveSmallIntegerField(
        _("shares"), default=1, help_text=_("Several adopters may each take a share.")
    )
    shares_taken = models.PositiveSmallIntegerField(_("shares taken"), default=0)
    pledged_total = models.DecimalField(
        _("pledged (yuan)"), max_digits=10, decimal_places=2, default=0
    )
    spent_total = models.DecimalField(_("spent (yuan)"), max_digits=10, decimal_places=2, default=0)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    priority = models.BooleanField(_("priority"), default=False)  # rolled over
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    visit = models.ForeignKey(
        CareVisit,
        verbose_name=_("care visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wishes",
    )
    photo = models.ImageField(_("photo"), upload_to="wishes/%Y/%m/", blank=True)
    # A photo may show a face: the wall shows it only when staff said so.
    photo_publishable = models.BooleanField(_("photo may be shown publicly"), default=False)
    withdrawn_reason = models.CharField(_("why withdrawn"), max_length=200, blank=True)
    fulfilment_note = models.TextField(_("what was given or done"), blank=True)
    fulfilment_photo = models.ImageField(
        _("fulfilment photo"), upload_to="wishes/%Y/%m/", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    adopted_at = models.DateTimeField(_("adopted at"), null=True, blank=True)
    contact_due_at = models.DateTimeField(_("contact due by"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shares_taken__lte=models.F("shares")), name="wish_shares_not_over"
            ),
            models.CheckConstraint(condition=Q(shares__gte=1), name="wish_shares_positive"),
        ]
        indexes = [
            # The wall: priority first, then the nearest deadline.
            models.Index(fields=["status", "-priority", "deadline", "id"], name="wish_wall"),
            models.Index(
                fields=["district", "status", "-priority", "deadline"], name="wish_district"
            ),
            models.Index(fields=["community", "status"], name="wish_community"),
            models.Index(fields=["station", "status", "-id"], name="wish_station"),
            # Adoptions not contacted in time.
            models.Index(
                fields=["contact_due_at"],
                condition=Q(status="adopted"),
                name="wish_contact_due",
            ),
            # The wall's latest adopted and fulfilled wishes (newest first):
            # without it the primary key is scanned back past every newer
            # wish still waiting (a campaign of 8,000 just published: 1–3 ms
            # and 8,000 rows filtered, against 0.1 ms).
            models.Index(
                fields=["-id"],
                condition=Q(status__in=["adopted", "contacted", "fulfilled", "confirmed"]),
                name="wish_recent",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("requests:wish_detail", args=[self.pk])

    def can(self, step: str) -> bool:
        return self.status in self.TRANSITIONS[step][0]

    @property
    def shares_left(self) -> int:
        return self.shares - self.shares_taken

    @property
    def on_wall(self) -> bool:
        return self.status in self.ON_WALL


class WishAdoption(models.Model):
    """One adopter's share of a wish: a volunteer, or an organization through
    the staff member acting for it. Remote adoption: the adopter pledges and
    ``deliverer`` (a nearby volunteer) takes it to the door. Money is recorded
    as pledged and spent, never processed."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")

    wish = models.ForeignKey(
        MicroWish,
        verbose_name=_("wish"),
        on_delete=models.CASCADE,
        related_name="adoptions",
        db_index=False,  # wishadoption_wish
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wish_adoptions",
        db_index=False,  # wishadoption_volunteer
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wish_adoptions",
    )
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    shares = models.PositiveSmallIntegerField(_("shares"), default=1)
    amount = models.DecimalField(_("pledged (yuan)"), max_digits=10, decimal_places=2, default=0)
    is_remote = models.BooleanField(_("remote adoption"), default=False)
    deliverer = models.ForeignKey(
        Volunteer,
        verbose_name=_("delivered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wish_deliveries",
        db_index=False,  # wishadoption_deliverer
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    adopted_at = models.DateTimeField(_("adopted at"), auto_now_add=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wish adoption")
        verbose_name_plural = _("wish adoptions")
        ordering = ["adopted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(volunteer__isnull=False, organization__isnull=True)
                | Q(volunteer__isnull=True, organization__isnull=False),
                name="wishadoption_one_adopter",
            ),
            models.UniqueConstraint(
                fields=["wish", "volunteer"],
                condition=Q(status="active", volunteer__isnull=False),
                name="wishadoption_volunteer_once",
            ),
        ]
        indexes = [
            models.Index(fields=["volunteer", "-adopted_at"], name="wishadoption_volunteer"),
            models.Index(fields=["deliverer", "-adopted_at"], name="wishadoption_deliverer"),
            models.Index(fields=["wish", "status"], name="wishadoption_wish"),
        ]

    def __str__(self) -> str:
        return f"{self.wish_id} {self.volunteer_id or self.organization_id}"


class ResidentImport(models.Model):
    """An uploaded CSV/xlsx file of special-group residents: previewed first,
    then applied all-or-nothing (the design of ``volunteers.ImportBatch``).
    The raw rows (names, phones, addresses) are deleted once applied, or
    after LIANXIN["IMPORT_RETENTION_DAYS"] when never applied."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    filename = models.CharField(_("file"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    rows = models.JSONField(_("rows"), default=list)
    errors = models.JSONField(_("errors"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PREVIEWED
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    created_count = models.PositiveIntegerField(_("rows written"), default=0)
    rows_purged_at = models.DateTimeField(_("raw rows deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident import")
        verbose_name_plural = _("resident imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("requests:resident_import_preview", args=[self.pk])
