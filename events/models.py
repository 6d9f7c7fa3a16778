"""The monthly service day (党员志愿服务日, the last Saturday of every month):
its venues, the stalls at each venue, the volunteer shifts of a stall and the
sign-ups (with a waiting list); the other activities and their participants;
the photos of both; the highlights of the public record; the volunteers'
calendar feeds."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from center.models import ServiceItem, Station
from volunteers.models import Merchant, Organization, ServiceTeam, Volunteer


class ServiceDay(models.Model):
    """One service day, city-wide. The monthly one is generated for the last
    Saturday (``events.services.days.last_saturday``); a manager may move it
    (a holiday) or add extra days."""

    date = models.DateField(_("date"), unique=True)
    # The month it is the service day of (its first day); extra days have none.
    month = models.DateField(_("month"), null=True, blank=True)
    theme = models.CharField(_("theme"), max_length=100)
    is_extra = models.BooleanField(_("extra day"), default=False)
    moved_from = models.DateField(_("moved from"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service day")
        verbose_name_plural = _("service days")
        ordering = ["-date"]
        constraints = [
            # One monthly day per month, however often generation runs.
            models.UniqueConstraint(
                fields=["month"], condition=Q(is_extra=False), name="serviceday_one_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.theme}"


class Venue(models.Model):
    """Where a station sets up its stalls on a service day."""

    class Kind(models.TextChoices):
        SQUARE = "square", _("Square")
        MARKET = "market", _("Market")
        COMMUNITY = "community", _("Residential community")
        STATION = "station", _("Station")

    day = models.ForeignKey(
        ServiceDay, verbose_name=_("service day"), on_delete=models.CASCADE, related_name="venues"
    )
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="venues"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["day", "station", "name"]
        indexes = [models.Index(fields=["station", "day"], name="venue_station_day")]

    def __str__(self) -> str:
        return self.name


class Stall(models.Model):
    """A service offered at a venue, run by the station, a team, an
    organization (the gas company) or a merchant."""

    venue = models.ForeignKey(
        Venue, verbose_name=_("venue"), on_delete=models.CASCADE, related_name="stalls"
    )
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("service item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    service = models.CharField(_("service"), max_length=100)  # shown name (磨刀、理发…)
    team = models.ForeignKey(
        ServiceTeam, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), null=True, blank=True, on_delete=models.PROTECT
    )
    people_served = models.PositiveIntegerField(_("people served"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("stall")
        verbose_name_plural = _("stalls")
        ordering = ["venue", "id"]

    def __str__(self) -> str:
        return self.service


class Shift(models.Model):
    """Volunteer places at a stall for a time; sign-ups past ``capacity`` wait."""

    stall = models.ForeignKey(
        Stall, verbose_name=_("stall"), on_delete=models.CASCADE, related_name="shifts"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("places"))
    # Kept by the sign-up services (under the shift's row lock).
    taken = models.PositiveSmallIntegerField(_("places taken"), default=0)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(taken__lte=models.F("capacity")), name="shift_not_over"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stall_id} {self.starts_at:%H:%M}"


class SignUp(models.Model):
    """A volunteer's place on a shift, or their turn on its waiting list."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="signups"
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="signups",
        db_index=False,  # signup_volunteer
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "volunteer"],
                condition=~Q(status="cancelled"),
                name="signup_once_per_shift",
            ),
        ]
        indexes = [
            models.Index(fields=["volunteer", "-created_at"], name="signup_volunteer"),
            # The waiting list in turn.
            models.Index(
                fields=["shift", "created_at", "id"],
                condition=Q(status="waiting"),
                name="signup_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shift_id} {self.volunteer_id} {self.status}"

    @property
    def hours_ref(self) -> str:
        """The reference of the hours entry attendance credits: one per
        volunteer and shift (not per sign-up row), so a shift is credited
        once whatever happened to the rows (cancelled, signed up again)."""
        return f"shift:{self.shift_id}:volunteer:{self.volunteer_id}"


class Activity(models.Model):
    """Another activity beside the service days: a micro-wish drive, holiday
    visits, an emergency call-up (volunteers mobilised by area or skill)…
    Organised by a station (its scope); participants' hours are credited with
    the activity source (``HoursEntry.Source.ACTIVITY``)."""

    class Kind(models.TextChoices):
        WISH_DRIVE = "wish_drive", _("Micro-wish drive")
        HOLIDAY_VISIT = "holiday_visit", _("Holiday visits")
        CALL_UP = "call_up", _("Emergency call-up")
        OTHER = "other", _("Other activity")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    date = models.DateField(_("date"))
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    station = models.ForeignKey(
        Station,
        verbose_name=_("organizing station"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    # Who organises it, as said in public (the station, 市委组织部, the gas company…).
    organizer = models.CharField(_("organizer"), max_length=100)
    place = models.CharField(_("place"), max_length=200, blank=True)
    # Whom a call-up mobilises: volunteers of an area and/or with a specialty.
    area = models.ForeignKey(
        "center.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    specialty = models.ForeignKey(
        "center.Specialty",
        verbose_name=_("specialty"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    people_served = models.PositiveIntegerField(_("people served"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["station", "-date"], name="activity_station_date"),
            models.Index(fields=["date"], name="activity_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="activity_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Participation(models.Model):
    """A volunteer in an activity: invited (a call-up), joined, then attended
    (hours credited once) or absent."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        JOINED = "joined", _("Joined")
        DECLINED = "declined", _("Declined")
        ATTENDED = "attended", _("Attended")
        ABSENT = "absent", _("Absent")

    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        on_delete=models.CASCADE,
        related_name="participations",
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="participations",
        db_index=False,  # participation_volunteer
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        ordering = ["activity", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="participation_once"),
        ]
        indexes = [
            models.Index(fields=["volunteer", "-created_at"], name="participation_volunteer"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.volunteer_id} {self.status}"


class EventPhoto(models.Model):
    """A photo of a stall on a service day or of an activity, checked and
    re-encoded by ``center.photos`` and streamed by a view (never /media).
    Shown publicly (the record) only when staff said it may be."""

    stall = models.ForeignKey(
        Stall,
        verbose_name=_("stall"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="photos",
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="photos",
    )
    image = models.ImageField(_("photo"), upload_to="events/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    # A photo may show faces: public only when staff said so.
    publishable = models.BooleanField(_("may be shown publicly"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event photo")
        verbose_name_plural = _("event photos")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stall__isnull=False, activity__isnull=True)
                | Q(stall__isnull=True, activity__isnull=False),
                name="eventphoto_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.caption or self.image.name


class Highlight(models.Model):
    """A highlight of the public record, chosen by a manager for a month, a
    quarter or a year: a service day (or one stall of it) or an activity,
    with a title and a few words."""

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    # The first day of the month, quarter or year.
    period_start = models.DateField(_("period start"))
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"), blank=True)
    service_day = models.ForeignKey(
        ServiceDay,
        verbose_name=_("service day"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="highlights",
    )
    stall = models.ForeignKey(
        Stall,
        verbose_name=_("stall"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="highlights",
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="highlights",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chosen by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("highlight")
        verbose_name_plural = _("highlights")
        ordering = ["period_start", "position", "id"]
        indexes = [
            models.Index(fields=["period", "period_start"], name="highlight_period"),
        ]

    def __str__(self) -> str:
        return self.title


class CalendarFeed(models.Model):
    """A volunteer's personal calendar feed (their shifts as .ics), reached
    by a secret token in the URL (calendar apps send no login). Resetting
    the token makes the old URL stop working."""

    volunteer = models.OneToOneField(
        Volunteer,
        verbose_name=_("volunteer"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.volunteer_id)
