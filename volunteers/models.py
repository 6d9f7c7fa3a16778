"""Everyone who serves: volunteers, merchants, teams, organizations; posts,
service hours, certificates, complaints and the sanction ladder."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from center.masking import mask_id_number, mask_mobile
from center.models import Area, ServiceItem, Specialty, Station
from center.validators import validate_id_number, validate_mobile


class ProviderStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REMOVED = "removed", _("Removed")


class Organization(models.Model):
    """A government body, institution or company whose members serve ("one member, two posts")."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Government body")
        INSTITUTION = "institution", _("Public institution")
        COMPANY = "company", _("Company")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    class Kind(models.TextChoices):
        COMMUNITY = "community", _("Community volunteer")
        IN_SERVICE = "in_service", _("In-service member")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    # The public identifier: never the ID number (2021 national measures).
    volunteer_no = models.CharField(
        _("volunteer number"), max_length=16, unique=True, editable=False
    )
    name = models.CharField(_("name"), max_length=64)
    mobile = models.CharField(_("mobile"), max_length=11, unique=True, validators=[validate_mobile])
    id_number = models.CharField(
        _("ID number"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_id_number],
    )
    is_party_member = models.BooleanField(_("party member"), default=True)
    party_join_date = models.DateField(_("party join date"), null=True, blank=True)
    party_branch = models.CharField(_("party branch"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMMUNITY)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    station = models.ForeignKey(
        Station, verbose_name=_("home station"), on_delete=models.PROTECT, related_name="volunteers"
    )
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteers",
        limit_choices_to={"level": Area.Level.COMMUNITY},
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    specialties = models.ManyToManyField(
        Specialty, verbose_name=_("specialties"), blank=True, related_name="volunteers"
    )
    service_items = models.ManyToManyField(
        ServiceItem, verbose_name=_("service items"), blank=True, related_name="volunteers"
    )
    on_duty = models.BooleanField(_("on duty"), default=False)
    # {"mon": [["08:00", "12:00"]], ...}: when the volunteer can usually be dispatched.
    weekly_availability = models.JSONField(_("weekly availability"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE
    )
    suspended_until = models.DateField(_("suspended until"), null=True, blank=True)
    # Denormalised sum of verified hours entries, kept by volunteers.services.hours.
    verified_hours = models.DecimalField(
        _("verified hours"), max_digits=9, decimal_places=2, default=Decimal("0")
    )
    rating = models.DecimalField(
        _("rating"), max_digits=3, decimal_places=2, default=Decimal("5.00")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["verified_hours", "updated_at"])

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["station", "status", "-id"]),
            models.Index(fields=["status", "on_duty"]),
            models.Index(fields=["kind", "-id"]),
            models.Index(fields=["is_party_member", "-id"]),
            models.Index(fields=["verified_hours"]),
            models.Index(fields=["name"]),
            models.Index(fields=["organization"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="in_service") | Q(organization__isnull=False),
                name="volunteer_in_service_has_employer",
                violation_error_message=_("An in-service member must name their employer."),
            ),
            models.CheckConstraint(
                condition=~Q(status="suspended") | Q(suspended_until__isnull=False),
                name="volunteer_suspension_has_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.volunteer_no}）"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Provider.sync(self)

    def get_absolute_url(self) -> str:
        return reverse("volunteers:volunteer_detail", args=[self.pk])

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def star_level(self) -> int:
        from .stars import star_level

        return star_level(self.verified_hours)

    @property
    def star_marks(self) -> list[bool]:
        """The stars a page draws, filled up to ``star_level``."""
        from .stars import star_marks

        return star_marks(self.star_level)


class Merchant(models.Model):
    class Kind(models.TextChoices):
        FRANCHISE = "franchise", _("Franchise merchant")
        INDIVIDUAL = "individual", _("Individual business")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    licence_no = models.CharField(_("business licence number"), max_length=32, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=64)
    mobile = models.CharField(_("mobile"), max_length=11, unique=True, validators=[validate_mobile])
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    staff_count = models.PositiveIntegerField(_("staff"), default=1)
    stations = models.ManyToManyField(
        Station, verbose_name=_("stations served"), related_name="merchants"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE
    )
    suspended_until = models.DateField(_("suspended until"), null=True, blank=True)
    rating = models.DecimalField(
        _("rating"), max_digits=3, decimal_places=2, default=Decimal("5.00")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merchant",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[stations])

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["kind", "status"]),
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["name"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="suspended") | Q(suspended_until__isnull=False),
                name="merchant_suspension_has_end",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Provider.sync(self)

    def get_absolute_url(self) -> str:
        return reverse("volunteers:merchant_detail", args=[self.pk])

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


class MerchantOffer(models.Model):
    """An item a merchant offers at its own price, never above the center's price."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="offers"
    )
    item = models.ForeignKey(
        ServiceItem, verbose_name=_("service item"), on_delete=models.PROTECT, related_name="offers"
    )
    price = models.DecimalField(
        _("price (yuan)"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("merchant offer")
        verbose_name_plural = _("merchant offers")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "item"], name="merchantoffer_unique_item")
        ]
        indexes = [models.Index(fields=["item", "merchant"])]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.item}"


class ServiceTeam(models.Model):
    class Kind(models.TextChoices):
        SPECIALTY = "specialty", _("Specialty team")
        PROFESSIONAL = "professional", _("Professional team")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    specialty = models.ForeignKey(
        Specialty,
        verbose_name=_("specialty"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams",
    )
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="teams"
    )
    leader = models.ForeignKey(
        Volunteer,
        verbose_name=_("leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    members = models.ManyToManyField(
        Volunteer, verbose_name=_("members"), blank=True, related_name="teams"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        verbose_name = _("service team")
        verbose_name_plural = _("service teams")
        ordering = ["name"]
        indexes = [models.Index(fields=["station", "kind"]), models.Index(fields=["specialty"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="specialty") | Q(specialty__isnull=False),
                name="serviceteam_specialty_team_has_specialty",
                violation_error_message=_("A specialty team must name its specialty."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Provider.sync(self)

    def get_absolute_url(self) -> str:
        return reverse("volunteers:team_detail", args=[self.pk])


class Provider(models.Model):
    """Whoever can be dispatched: a volunteer, a merchant or a team, one row
    each. Orders, offers, complaints and sanctions point here, and dispatch
    ranks these rows alone (one indexed table, no joins over the orders).

    Identity and location are copied from the volunteer, merchant or team by
    ``Provider.sync`` on every save of those (``providers_sync`` for bulk
    writes); ``open_orders`` and ``last_taken_at`` are kept by the order
    services that change them (requests.services)."""

    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", _("Volunteer")
        MERCHANT = "merchant", _("Merchant")
        TEAM = "team", _("Team")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    volunteer = models.OneToOneField(
        Volunteer,
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provider",
    )
    merchant = models.OneToOneField(
        Merchant,
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provider",
    )
    team = models.OneToOneField(
        ServiceTeam,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provider",
    )
    name = models.CharField(_("name"), max_length=120)
    # Who acts for the provider on the phone: the volunteer, the merchant's
    # login, the team's leader.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="providers",
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("home station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    on_duty = models.BooleanField(_("on duty"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE
    )
    suspended_until = models.DateField(_("suspended until"), null=True, blank=True)
    rating = models.DecimalField(
        _("rating"), max_digits=3, decimal_places=2, default=Decimal("5.00")
    )
    open_orders = models.PositiveIntegerField(_("open orders"), default=0)
    last_taken_at = models.DateTimeField(_("last order taken at"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["kind", "name", "id"]
        indexes = [
            # Dispatch: a latitude band of one kind, longitude checked in the index.
            models.Index(fields=["kind", "latitude", "longitude"], name="provider_location"),
            models.Index(fields=["kind", "station"], name="provider_station"),
            models.Index(fields=["user"], name="provider_user"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind="volunteer",
                    volunteer__isnull=False,
                    merchant__isnull=True,
                    team__isnull=True,
                )
                | Q(
                    kind="merchant",
                    volunteer__isnull=True,
                    merchant__isnull=False,
                    team__isnull=True,
                )
                | Q(kind="team", volunteer__isnull=True, merchant__isnull=True, team__isnull=False),
                name="provider_is_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return self.subject.get_absolute_url()

    @property
    def subject(self):
        """The volunteer, merchant or team itself."""
        return self.volunteer or self.merchant or self.team

    @staticmethod
    def fields_from(obj) -> dict:
        """The copied fields for a volunteer, merchant or team."""

        def num(value):
            return float(value) if value is not None else None

        if isinstance(obj, Volunteer):
            return {
                "kind": Provider.Kind.VOLUNTEER,
                "name": obj.name,
                "user_id": obj.user_id,
                "station_id": obj.station_id,
                "latitude": num(obj.latitude),
                "longitude": num(obj.longitude),
                "on_duty": obj.on_duty,
                "status": obj.status,
                "suspended_until": obj.suspended_until,
                "rating": obj.rating,
            }
        if isinstance(obj, Merchant):
            return {
                "kind": Provider.Kind.MERCHANT,
                "name": obj.name,
                "user_id": obj.user_id,
                "station_id": None,
                "latitude": num(obj.latitude),
                "longitude": num(obj.longitude),
                "on_duty": True,  # a business open in its hours; availability rows narrow it
                "status": obj.status,
                "suspended_until": obj.suspended_until,
                "rating": obj.rating,
            }
        leader = obj.leader
        station = obj.station
        return {
            "kind": Provider.Kind.TEAM,
            "name": obj.name,
            "user_id": leader.user_id if leader else None,
            "station_id": obj.station_id,
            "latitude": num(station.latitude),
            "longitude": num(station.longitude),
            "on_duty": obj.is_active,
            # A team is dispatched through its leader: the leader's sanction is the team's.
            "status": leader.status if obj.is_active and leader else ProviderStatus.REMOVED,
            "suspended_until": leader.suspended_until if obj.is_active and leader else None,
            "rating": Decimal("5.00"),
        }

    @classmethod
    def sync(cls, obj) -> "Provider":
        """Create or refresh the provider row of ``obj`` and its weekly availability rows."""
        link = {cls._link_name(obj): obj}
        provider, _created = cls.objects.update_or_create(**link, defaults=cls.fields_from(obj))
        if isinstance(obj, Volunteer):
            AvailabilitySlot.replace(provider, obj.weekly_availability)
            ProviderItem.refresh(provider, obj)
            if not _created:
                # A new login or a sanction changes the teams this volunteer leads.
                for team in obj.led_teams.select_related("station"):
                    team.leader = obj
                    cls.objects.filter(team=team).update(**cls.fields_from(team))
        return provider

    @staticmethod
    def _link_name(obj) -> str:
        return {Volunteer: "volunteer", Merchant: "merchant", ServiceTeam: "team"}[type(obj)]


def providers_sync(objs) -> None:
    """``Provider.sync`` for rows written with ``bulk_create`` (imports, demo):
    the same result, set-based (a few queries per kind, not per row)."""
    groups: dict[type, list] = {}
    for obj in objs:
        groups.setdefault(type(obj), []).append(obj)
    for model, rows in groups.items():
        link = Provider._link_name(rows[0])
        existing = {
            getattr(p, f"{link}_id"): p
            for p in Provider.objects.filter(**{f"{link}__in": [o.pk for o in rows]})
        }
        new, changed, fields = [], [], []
        for obj in rows:
            values = Provider.fields_from(obj)
            fields = list(values)
            provider = existing.get(obj.pk)
            if provider is None:
                new.append(Provider(**{link: obj}, **values))
            else:
                for name, value in values.items():
                    setattr(provider, name, value)
                changed.append(provider)
        Provider.objects.bulk_create(new, batch_size=1000)
        Provider.objects.bulk_update(changed, fields, batch_size=1000)
        if model is Volunteer:
            providers = [*new, *changed]
            AvailabilitySlot.replace_many(providers, {o.pk: o for o in rows})
            ProviderItem.refresh_many(providers)


class ProviderItem(models.Model):
    """What a volunteer can do, one row per item (the items they listed and the
    items of their specialties), with a copy of where they are: dispatch reads
    the item's rows in a latitude band from one index instead of checking
    every volunteer in the box (docs/performance.md). Kept by ``Provider.sync``
    and by the receivers of the volunteers' item and specialty links."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.CASCADE, related_name="items"
    )
    item = models.ForeignKey(
        ServiceItem, verbose_name=_("service item"), on_delete=models.CASCADE, related_name="+"
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("home station"),
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    latitude = models.FloatField(_("latitude"), null=True)
    longitude = models.FloatField(_("longitude"), null=True)

    class Meta:
        verbose_name = _("provider's service item")
        verbose_name_plural = _("providers' service items")
        constraints = [
            models.UniqueConstraint(fields=["provider", "item"], name="provideritem_unique")
        ]
        indexes = [
            models.Index(
                fields=["item", "latitude", "longitude", "provider"], name="provideritem_near"
            ),
            models.Index(fields=["item", "station", "provider"], name="provideritem_area"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.item}"

    @staticmethod
    def wanted_for(volunteer_ids) -> dict[int, set[int]]:
        """volunteer id → the items they listed and the items of their specialties
        (three indexed queries whatever the number of volunteers)."""
        wanted: dict[int, set[int]] = {v: set() for v in volunteer_ids}
        listed = Volunteer.service_items.through.objects.filter(volunteer_id__in=volunteer_ids)
        for v, item in listed.values_list("volunteer_id", "serviceitem_id"):
            wanted[v].add(item)
        specs = Volunteer.specialties.through.objects.filter(volunteer_id__in=volunteer_ids)
        pairs = list(specs.values_list("volunteer_id", "specialty_id"))
        by_specialty: dict[int, list[int]] = {}
        for item, spec in ServiceItem.objects.filter(
            specialty_id__in={spec for _v, spec in pairs}
        ).values_list("pk", "specialty_id"):
            by_specialty.setdefault(spec, []).append(item)
        for v, spec in pairs:
            wanted[v].update(by_specialty.get(spec, ()))
        return wanted

    @classmethod
    def refresh(cls, provider: "Provider", volunteer: "Volunteer") -> None:
        cls.refresh_many([provider])

    @classmethod
    def refresh_many(cls, providers) -> None:
        """Make the rows of ``providers`` (volunteers) match what they can do and where they are."""
        providers = [p for p in providers if p.volunteer_id]
        if not providers:
            return
        wanted = cls.wanted_for([p.volunteer_id for p in providers])
        have: dict[int, dict[int, tuple]] = {p.pk: {} for p in providers}
        for row in cls.objects.filter(provider__in=providers).values_list(
            "pk", "provider_id", "item_id", "station_id", "latitude", "longitude"
        ):
            have[row[1]][row[2]] = (row[0], row[3:])
        stale, new = [], []
        for p in providers:
            where = (p.station_id, p.latitude, p.longitude)
            want = wanted[p.volunteer_id]
            for item, (pk, at) in have[p.pk].items():
                if item not in want or at != where:
                    stale.append(pk)
            for item in want:
                if item not in have[p.pk] or have[p.pk][item][1] != where:
                    new.append(
                        cls(
                            provider=p,
                            item_id=item,
                            station_id=p.station_id,
                            latitude=p.latitude,
                            longitude=p.longitude,
                        )
                    )
        if stale:
            cls.objects.filter(pk__in=stale).delete()
        cls.objects.bulk_create(new, batch_size=2000)

    @classmethod
    def refresh_item(cls, item: ServiceItem) -> None:
        """For one catalogue item whose specialty changed (or a new item): the
        volunteers who may now do it, and those who had it, refreshed by the
        one rule (``wanted_for``, through ``refresh_many``)."""
        could = Q(volunteer__service_items=item)
        if item.specialty_id:
            could |= Q(volunteer__specialties=item.specialty_id)
        had = cls.objects.filter(item=item).values("provider_id")
        cls.refresh_many(
            Provider.objects.filter(
                Q(pk__in=Provider.objects.filter(could).values("pk")) | Q(pk__in=had)
            )
        )


class AvailabilitySlot(models.Model):
    """One period of a provider's weekly availability, in minutes of the day,
    so dispatch filters it in the database (``weekday`` 0 = Monday)."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.CASCADE, related_name="slots"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    start_minute = models.PositiveSmallIntegerField(_("from (minute of day)"))
    end_minute = models.PositiveSmallIntegerField(_("to (minute of day)"))

    class Meta:
        verbose_name = _("availability period")
        verbose_name_plural = _("availability periods")
        indexes = [
            models.Index(
                fields=["provider", "weekday", "start_minute", "end_minute"],
                name="slot_provider_time",
            ),
            # For a time other than now, dispatch reads the weekday's periods
            # covering it (docs/performance.md: the p90 of the ranking).
            models.Index(
                fields=["weekday", "start_minute", "end_minute", "provider"],
                name="slot_weekday_time",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6, start_minute__lt=models.F("end_minute"))
                & Q(end_minute__lte=1440),
                name="slot_valid_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_minute}-{self.end_minute}"

    @classmethod
    def replace_many(cls, providers, volunteers_by_id) -> None:
        """``replace`` for many providers at once (bulk writes)."""
        from .availability import slots

        cls.objects.filter(provider__in=providers).delete()
        cls.objects.bulk_create(
            [
                cls(provider=p, weekday=d, start_minute=a, end_minute=b)
                for p in providers
                for d, a, b in slots(volunteers_by_id[p.volunteer_id].weekly_availability)
            ],
            batch_size=2000,
        )

    @classmethod
    def replace(cls, provider: Provider, weekly: dict) -> None:
        from .availability import slots

        wanted = slots(weekly)
        have = list(
            cls.objects.filter(provider=provider).values_list(
                "weekday", "start_minute", "end_minute"
            )
        )
        if sorted(have) == sorted(wanted):
            return
        cls.objects.filter(provider=provider).delete()
        cls.objects.bulk_create(
            [cls(provider=provider, weekday=d, start_minute=a, end_minute=b) for d, a, b in wanted]
        )


class Post(models.Model):
    """A post a station publishes for in-service members to claim (双报到)."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation work")
        LEGAL = "legal", _("Legal advice")
        POOR_DISABLED = "poor_disabled", _("Help for the poor and disabled")
        GOVERNANCE = "governance", _("Community governance")
        HEALTH = "health", _("Health")
        CULTURE_SPORT = "culture_sport", _("Culture and sport")
        SAFETY = "safety", _("Safety patrol")
        CIVILITY = "civility", _("Civility and environment")

    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="posts"
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    schedule = models.CharField(
        _("schedule"), max_length=120, help_text=_("e.g. every Saturday 09:00–11:00")
    )
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    is_open = models.BooleanField(_("open for claims"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-id"]
        indexes = [models.Index(fields=["station", "is_open"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("volunteers:post_detail", args=[self.pk])


class PostClaim(models.Model):
    class Status(models.TextChoices):
        CLAIMED = "claimed", _("Claimed")
        REPORTED = "reported", _("Reported in")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="claims"
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.CASCADE, related_name="post_claims"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.CLAIMED
    )
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    skills = models.CharField(_("what I can do"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("post claim")
        verbose_name_plural = _("post claims")
        ordering = ["claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "volunteer"],
                condition=~Q(status="withdrawn"),
                name="postclaim_one_live_claim",
            )
        ]
        indexes = [models.Index(fields=["volunteer", "status"])]

    def __str__(self) -> str:
        return f"{self.volunteer} → {self.post}"


class HoursEntry(models.Model):
    """One line of the service-hours ledger: actual service time only, no travel."""

    class Source(models.TextChoices):
        ORDER = "order", _("Order")
        SERVICE_DAY = "service_day", _("Service day")
        ACTIVITY = "activity", _("Activity")
        CARE_VISIT = "care_visit", _("Care visit")
        POST_DUTY = "post_duty", _("Post duty")
        MANUAL = "manual", _("Manual entry")

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="hours"
    )
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("24"))],
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # The id of the order, service day, visit or post the hours come from: with
    # source, it makes crediting idempotent.
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)
    description = models.CharField(_("service done"), max_length=200)
    reason = models.CharField(_("reason (manual entries)"), max_length=200, blank=True)
    station = models.ForeignKey(
        Station,
        verbose_name=_("recording station"),
        on_delete=models.PROTECT,
        related_name="hours_entries",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("hours entry")
        verbose_name_plural = _("hours entries")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["volunteer", "-date"]),
            models.Index(fields=["station", "verified_at"]),
            models.Index(fields=["date"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "source", "source_ref"],
                condition=~Q(source_ref=""),
                name="hoursentry_one_credit_per_source",
            ),
            models.CheckConstraint(
                condition=~Q(source="manual") | ~Q(reason=""),
                name="hoursentry_manual_has_reason",
                violation_error_message=_("A manual entry needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=24), name="hoursentry_hours_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.date} {self.hours}h"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Certificate(models.Model):
    """A service certificate (志愿服务证明) as issued: its fields are frozen in ``snapshot``."""

    number = models.CharField(_("certificate number"), max_length=32, unique=True)
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    station = models.ForeignKey(
        Station, verbose_name=_("issuing station"), on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    total_hours = models.DecimalField(_("hours"), max_digits=9, decimal_places=2)
    snapshot = models.JSONField(_("content"), default=dict)

    class Meta:
        verbose_name = _("service certificate")
        verbose_name_plural = _("service certificates")
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["volunteer", "-issued_at"])]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("volunteers:certificate_detail", args=[self.pk])


class Complaint(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending ruling")
        VALID = "valid", _("Valid")
        INVALID = "invalid", _("Invalid")

    # The volunteer or merchant complained about (a team's order: the person concerned).
    provider = models.ForeignKey(
        "Provider",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    # The order is reached through the follow-up call that raised the
    # complaint (requests.FollowUp.complaint): the arrow runs requests → volunteers.
    # Where it is counted (issue 14): the order's station when it came from a
    # follow-up, else the provider's home station.
    station = models.ForeignKey(
        Station,
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    description = models.TextField(_("what happened"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    ruled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ruled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ruled_at = models.DateTimeField(_("ruled at"), null=True, blank=True)
    ruling_reason = models.TextField(_("reason for the ruling"), blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "status", "ruled_at"], name="complaint_provider"),
            # The complaints list, newest first (selectors.complaint_list).
            models.Index(fields=["-recorded_at", "-id"], name="complaint_recorded"),
            models.Index(fields=["status", "-recorded_at"]),
            models.Index(fields=["station", "-recorded_at"], name="complaint_station"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.provider}"

    def get_absolute_url(self) -> str:
        return reverse("volunteers:complaint_detail", args=[self.pk])


class Sanction(models.Model):
    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        YELLOW = "yellow", _("Yellow card")
        RED = "red", _("Red card")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In force")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    provider = models.ForeignKey(
        "Provider",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="sanctions",
    )
    complaint = models.OneToOneField(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="sanction"
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(
        _("no orders until"), null=True, blank=True, help_text=_("Empty for a red card: removal.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "ends_on"]),
            models.Index(fields=["provider", "status"], name="sanction_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} · {self.provider}"


class ImportBatch(models.Model):
    """An uploaded CSV/xlsx file: previewed first, then applied all-or-nothing."""

    class Kind(models.TextChoices):
        VOLUNTEERS = "volunteers", _("Volunteers")
        MERCHANTS = "merchants", _("Merchants")

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
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
    # The raw rows (names, mobiles, ID numbers) are deleted once applied, or
    # after LIANXIN["IMPORT_RETENTION_DAYS"] (volunteers.tasks.purge_import_rows).
    rows_purged_at = models.DateTimeField(_("raw rows deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.filename}"
