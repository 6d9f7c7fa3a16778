"""The center app: areas, stations, the service catalogue, users and roles, audit."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from .validators import normalize_mobile, validate_mobile


class Area(models.Model):
    """District/county → street/town → community, one tree."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("District / county")
        STREET = "street", _("Street / town")
        COMMUNITY = "community", _("Community / village")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return self.name


class Specialty(models.Model):
    """One of the 19 specialties of the specialty teams (特色服务分队)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    class Kind(models.TextChoices):
        CENTER = "center", _("Center")
        BRANCH = "branch", _("Branch station")
        SERVICE_POINT = "service_point", _("Service point")
        RED_CUBE = "red_cube", _("Red cube post")
        VILLAGE = "village", _("Village station")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    district = models.ForeignKey(
        Area,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="stations",
        limit_choices_to={"level": Area.Level.DISTRICT},
    )
    communities = models.ManyToManyField(
        Area,
        verbose_name=_("communities served"),
        blank=True,
        related_name="serving_stations",
        limit_choices_to={"level": Area.Level.COMMUNITY},
    )
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    phone = PhoneNumberField(_("phone"), blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[communities])

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["kind", "is_active"]),
            models.Index(fields=["district", "kind"]),
            models.Index(fields=["name"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="station_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="station_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("center:station_detail", args=[self.pk])

    @property
    def place(self) -> str:
        """Where the station is: its district and, below a branch, the branch
        (named for its street). Several stations share a name (花园社区服务站点
        in three districts); this tells them apart. Lists select_related
        ("district", "parent") so that it costs no query."""
        parent = self.parent if self.parent_id else None
        return self.format_place(
            self.district.name, parent.kind if parent else None, parent.name if parent else None
        )

    @classmethod
    def format_place(cls, district: str, parent_kind: str | None, parent_name: str | None) -> str:
        """The rule of ``place`` on plain values (a long choice list builds it
        from one ``values_list`` query, without model instances)."""
        if parent_name and parent_kind != cls.Kind.CENTER:
            return f"{district} · {parent_name}"
        return district

    @property
    def display_name(self) -> str:
        """The name with its place, wherever a station is chosen or listed."""
        return f"{self.name}（{self.place}）"

    def clean(self):
        super().clean()
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A station cannot be its own parent.")})
        if self.kind == self.Kind.CENTER and self.parent_id:
            raise ValidationError({"parent": _("The center has no parent station.")})
        if self.kind and self.kind != self.Kind.CENTER and not self.parent_id:
            raise ValidationError(
                {"parent": _("Every station except the center needs a parent station.")}
            )


class ServiceCategory(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class ServiceItem(models.Model):
    """A service the center offers, priced below the market rate."""

    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="items"
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    specialty = models.ForeignKey(
        Specialty,
        verbose_name=_("specialty needed"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    market_price = models.DecimalField(
        _("market price (yuan)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    center_price = models.DecimalField(
        _("center price (yuan)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    free_for_special_groups = models.BooleanField(_("free for special groups"), default=False)
    typical_minutes = models.PositiveIntegerField(
        _("typical duration (minutes)"), default=60, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["category__sort_order", "code"]
        indexes = [
            models.Index(fields=["category", "is_active"]),
            models.Index(fields=["specialty", "is_active"]),
            models.Index(fields=["name"]),
        ]
        constraints = [
            # DOMAIN.md: every service is priced below the market rate.
            models.CheckConstraint(
                condition=Q(center_price__lt=F("market_price")),
                name="serviceitem_center_price_below_market",
                violation_error_message=_("The center's price must be below the market price."),
            ),
            models.CheckConstraint(
                condition=Q(center_price__gte=0), name="serviceitem_center_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("center:item_detail", args=[self.pk])


class Role(models.TextChoices):
    OPERATOR = "operator", _("Hotline operator")
    STATION_MANAGER = "station_manager", _("Station manager")
    CENTER_MANAGER = "center_manager", _("Center manager")
    VOLUNTEER = "volunteer", _("Volunteer")
    MERCHANT = "merchant", _("Merchant")


# Roles of the people who serve: their logins are created with their record
# (center.accounts) and they see only what is theirs (orders held or offered).
PROVIDER_ROLES = frozenset({Role.VOLUNTEER, Role.MERCHANT})


class LianxinUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{self.model.USERNAME_FIELD: username})


class User(AbstractUser):
    """Staff and volunteers log in with their mobile number or username."""

    mobile = models.CharField(
        _("mobile"), max_length=11, unique=True, null=True, blank=True, validators=[validate_mobile]
    )
    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    stations = models.ManyToManyField(
        Station,
        verbose_name=_("managed stations"),
        blank=True,
        related_name="managers",
        help_text=_("For station managers: the stations they run (their service points included)."),
    )

    # How the portal reaches this person beyond the inbox (issue 13): the
    # language messages are written in, and the channels they chose.
    # Emergencies go by SMS whatever they chose.
    language = models.CharField(
        _("language of messages"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        # In the database too: bulk loaders (imports, the city bench) insert
        # users with SQL.
        db_default=settings.LANGUAGE_CODE,
    )
    notify_sms = models.BooleanField(_("messages by SMS"), default=True, db_default=True)
    notify_email = models.BooleanField(_("messages by email"), default=True, db_default=True)

    objects = LianxinUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["role"])]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self):
        super().clean()
        if self.mobile:
            self.mobile = normalize_mobile(self.mobile)

    @property
    def is_center_manager(self) -> bool:
        return self.is_superuser or self.role == Role.CENTER_MANAGER

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR

    @property
    def is_station_manager(self) -> bool:
        return self.role == Role.STATION_MANAGER

    @property
    def is_volunteer_user(self) -> bool:
        return self.role == Role.VOLUNTEER

    @property
    def is_merchant_user(self) -> bool:
        return self.role == Role.MERCHANT

    @property
    def is_staff_role(self) -> bool:
        return self.is_center_manager or self.role in {Role.OPERATOR, Role.STATION_MANAGER}


class ActivationCode(models.Model):
    """The one-time code that sets a provider's password: the first one after
    registration, or a new one when staff issue another (a forgotten password).

    Only a keyed hash of the code is stored (center.accounts). One live code
    per login: issuing another replaces it. It expires, is used once, and dies
    after too many wrong guesses (settings ACTIVATION_*).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        on_delete=models.CASCADE,
        related_name="activation_code",
    )
    code_hash = models.CharField(_("code hash"), max_length=64)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)

    class Meta:
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return str(self.user)

    def is_usable(self, now) -> bool:
        return (
            self.used_at is None
            and self.expires_at > now
            and self.failures < settings.LIANXIN["ACTIVATION_MAX_FAILURES"]
        )


class AuditEntry(models.Model):
    """Who did what: every service writes one (action names are dotted, e.g. center.station.updated)."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=100)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-created_at"]),
            models.Index(fields=["action", "-created_at"]),
            models.Index(fields=["actor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"


class Notification(models.Model):
    """The inbox: one row per message, exactly once per ``key``.

    Today only the in-portal inbox exists; later channels (email, SMS) are
    delivered from these rows by Celery tasks queued on commit.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    key = models.CharField(_("key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=60)
    # What to say, rendered in the reader's language when read: a message key
    # of center.messages and its parameters. ``title``/``body`` are the text
    # as first rendered (kept for search and for keys no longer known).
    message = models.CharField(_("message"), max_length=80, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def _rendered(self) -> tuple[str, str]:
        from .messages import render

        if not self.message:
            return self.title, self.body
        return render(self.message, self.params, fallback=(self.title, self.body))

    @property
    def display_title(self) -> str:
        """The title in the active language (the reader's), from the message key."""
        return self._rendered()[0]

    @property
    def display_body(self) -> str:
        return self._rendered()[1]

    @property
    def link(self) -> str:
        """Where the message points in the portal (``params["url"]``, a path
        of this site only), shown in the inbox as a link."""
        url = (self.params or {}).get("url") or ""
        return url if url.startswith("/") and not url.startswith("//") else ""


class Delivery(models.Model):
    """One message to one person by one channel (SMS or email): the outbox.

    Written in the same transaction as what caused it (``center.notifications``),
    so a broker outage loses nothing: a sweep publishes what is still pending.
    ``key`` makes a second delivery of the same reminder to the same person on
    the same occasion impossible, and a worker claims a row with a
    conditional update before calling the gateway, so a task run twice, or
    redelivered after a crash, sends once (``center.delivery``)."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    key = models.CharField(_("key"), max_length=160, unique=True)
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    # None: someone without a login (a provider not yet activated, a resident).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        db_index=False,  # delivery_recipient
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("sent to"), max_length=254)  # mobile or email
    kind = models.CharField(_("kind"), max_length=60)
    message = models.CharField(_("message"), max_length=80)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10)
    urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # Not before: quiet hours, or the backoff after a failed attempt.
    not_before = models.DateTimeField(_("not before"))
    # When a task for it was last handed to the broker (None: not yet, or the
    # broker was down): the sweep publishes what has none.
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # A claim is a lease: a worker that dies holding it loses it at this time.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    gateway_id = models.CharField(_("gateway id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep: what is due (pending) or whose claim has lapsed (sending).
            models.Index(
                fields=["not_before"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_due",
            ),
            # The delivery log, newest first, by status and channel.
            models.Index(fields=["-created_at", "-id"], name="delivery_log"),
            models.Index(fields=["status", "-created_at"], name="delivery_status"),
            models.Index(fields=["recipient", "-created_at"], name="delivery_recipient"),
            # The log's searches: "did this number get our SMS?", one message key.
            models.Index(fields=["address", "-created_at"], name="delivery_address"),
            models.Index(fields=["message", "-created_at"], name="delivery_message"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.message} {self.status}"
