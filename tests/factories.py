from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from center.models import Area, Role, ServiceCategory, ServiceItem, Specialty, Station, User


class DistrictFactory(DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"33{n:04d}")
    name = factory.Sequence(lambda n: f"测试区{n}")
    level = Area.Level.DISTRICT


class StreetFactory(DistrictFactory):
    code = factory.Sequence(lambda n: f"ST{n:06d}")
    name = factory.Sequence(lambda n: f"测试街道{n}")
    level = Area.Level.STREET
    parent = factory.SubFactory(DistrictFactory)


class CommunityFactory(DistrictFactory):
    code = factory.Sequence(lambda n: f"CM{n:06d}")
    name = factory.Sequence(lambda n: f"测试社区{n}")
    level = Area.Level.COMMUNITY
    parent = factory.SubFactory(StreetFactory)


class StationFactory(DjangoModelFactory):
    class Meta:
        model = Station

    code = factory.Sequence(lambda n: f"ST-{n:05d}")
    name = factory.Sequence(lambda n: f"测试分站{n}")
    kind = Station.Kind.BRANCH
    parent = factory.LazyAttribute(
        lambda o: (
            Station.objects.filter(kind=Station.Kind.CENTER).first()
            or StationFactory(kind=Station.Kind.CENTER, parent=None, district=o.district)
        )
    )
    district = factory.SubFactory(DistrictFactory)
    address = "嘉兴市南湖区测试路1号"
    latitude = Decimal("30.750000")
    longitude = Decimal("120.760000")
    opening_hours = "08:00-20:00"


class SpecialtyFactory(DjangoModelFactory):
    class Meta:
        model = Specialty

    code = factory.Sequence(lambda n: f"spec{n}")
    name = factory.Sequence(lambda n: f"专业{n}")


class ServiceCategoryFactory(DjangoModelFactory):
    class Meta:
        model = ServiceCategory

    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.Sequence(lambda n: f"大类{n}")
    sort_order = factory.Sequence(int)


class ServiceItemFactory(DjangoModelFactory):
    class Meta:
        model = ServiceItem

    category = factory.SubFactory(ServiceCategoryFactory)
    code = factory.Sequence(lambda n: f"ITEM-{n:04d}")
    name = factory.Sequence(lambda n: f"服务项目{n}")
    specialty = factory.SubFactory(SpecialtyFactory)
    market_price = Decimal("100.00")
    center_price = Decimal("60.00")
    typical_minutes = 60


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    mobile = factory.Sequence(lambda n: f"137{n:08d}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = ""
    password = factory.PostGenerationMethodCall("set_password", "pw-Lianxin-2026")

    @factory.post_generation
    def stations(self, create, extracted, **kwargs):
        if create and extracted:
            self.stations.set(extracted)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


PASSWORD = "pw-Lianxin-2026"
ROLE_CHOICES = Role


# --- volunteers app -------------------------------------------------------------

from volunteers.models import Merchant, Organization, Post, Volunteer  # noqa: E402


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"嘉兴单位{n}")
    kind = Organization.Kind.GOVERNMENT


class VolunteerFactory(DjangoModelFactory):
    class Meta:
        model = Volunteer

    volunteer_no = factory.Sequence(lambda n: f"JX{900000000 + n:09d}")
    name = factory.Sequence(lambda n: f"志愿者{n}")
    mobile = factory.Sequence(lambda n: f"158{n:08d}")
    station = factory.SubFactory(StationFactory)
    kind = Volunteer.Kind.COMMUNITY


class InServiceVolunteerFactory(VolunteerFactory):
    kind = Volunteer.Kind.IN_SERVICE
    organization = factory.SubFactory(OrganizationFactory)


class MerchantFactory(DjangoModelFactory):
    class Meta:
        model = Merchant
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"嘉兴家政服务部{n}")
    kind = Merchant.Kind.INDIVIDUAL
    licence_no = factory.Sequence(lambda n: f"92330400{n:010d}")
    contact_name = "周老板"
    mobile = factory.Sequence(lambda n: f"159{n:08d}")

    @factory.post_generation
    def stations(self, create, extracted, **kwargs):
        if create and extracted:
            self.stations.set(extracted)


class PostFactory(DjangoModelFactory):
    class Meta:
        model = Post

    station = factory.SubFactory(StationFactory)
    title = factory.Sequence(lambda n: f"社区岗位{n}")
    kind = Post.Kind.LEGAL
    schedule = "每周六 09:00–11:00"
    capacity = 2


# --- requests app ---------------------------------------------------------------

from requests.models import Resident, ResidentPhone  # noqa: E402


class ResidentFactory(DjangoModelFactory):
    class Meta:
        model = Resident
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"居民{n}")
    address = factory.Sequence(lambda n: f"南湖区建设街道梅湾社区{n}幢")
    latitude = Decimal("30.750000")
    longitude = Decimal("120.760000")

    @factory.post_generation
    def phone(self, create, extracted, **kwargs):
        if create:
            ResidentPhone.objects.create(resident=self, number=extracted or f"135{self.pk:08d}")


# --- special groups, care, micro-wishes (issue 11) ------------------------------

import datetime  # noqa: E402

from django.utils import timezone  # noqa: E402

from requests.models import (  # noqa: E402
    CareVisit,
    MicroWish,
    Pairing,
    ResidentConsent,
    ResidentGroup,
    SpecialGroup,
)


def special_group(code: str = "living-alone") -> SpecialGroup:
    """One of the groups migration 0011 creates (独居老人 by default)."""
    return SpecialGroup.objects.get(code=code)


class ResidentGroupFactory(DjangoModelFactory):
    """A membership written directly (tests of reads); services keep
    ``Resident.is_special``, so this sets it too."""

    class Meta:
        model = ResidentGroup

    resident = factory.SubFactory(ResidentFactory)
    group = factory.LazyFunction(special_group)
    verified_on = factory.LazyFunction(timezone.localdate)

    @factory.post_generation
    def mark_special(self, create, extracted, **kwargs):
        if create and not self.resident.is_special:
            Resident.objects.filter(pk=self.resident_id).update(is_special=True)
            self.resident.is_special = True


class ConsentFactory(DjangoModelFactory):
    class Meta:
        model = ResidentConsent

    resident = factory.SubFactory(ResidentFactory)
    scope = factory.LazyFunction(lambda: ["health", "disability", "id_number"])
    method = ResidentConsent.Method.SIGNED
    given_on = factory.LazyFunction(timezone.localdate)


class PairingFactory(DjangoModelFactory):
    class Meta:
        model = Pairing

    resident = factory.SubFactory(ResidentFactory)
    volunteer = factory.SubFactory(InServiceVolunteerFactory)
    cadence_days = 14
    started_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    next_visit_due = factory.LazyAttribute(
        lambda o: o.started_on + datetime.timedelta(days=o.cadence_days)
    )


class CareVisitFactory(DjangoModelFactory):
    class Meta:
        model = CareVisit

    resident = factory.SubFactory(ResidentFactory)
    volunteer = factory.SubFactory(InServiceVolunteerFactory)
    visited_on = factory.LazyFunction(timezone.localdate)
    minutes = 45
    found = "身体尚好，厨房水龙头滴水"


class MicroWishFactory(DjangoModelFactory):
    """A wish in any state (``status=...``); the resident's community, its
    district and ``station`` are copied as ``wish_create`` does."""

    class Meta:
        model = MicroWish

    resident = factory.SubFactory(ResidentFactory, community=factory.SubFactory(CommunityFactory))
    community = factory.LazyAttribute(lambda o: o.resident.community)
    district = factory.LazyAttribute(lambda o: o.community.parent.parent)
    station = factory.SubFactory(StationFactory)
    title = factory.Sequence(lambda n: f"一台电饭煲{n}")
    kind = MicroWish.Kind.GOODS
    estimated_cost = Decimal("200.00")
    deadline = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    source = MicroWish.Source.VISIT
    status = MicroWish.Status.PUBLISHED


# --- events app (service days) ----------------------------------------------------

from events.models import ServiceDay, Shift, Stall, Venue  # noqa: E402


class ServiceDayFactory(DjangoModelFactory):
    """An extra day by default (no month), so several coexist; a day in the
    future unless ``date=...``."""

    class Meta:
        model = ServiceDay

    date = factory.Sequence(lambda n: timezone.localdate() + datetime.timedelta(days=30 + n))
    theme = "党在我心中·我在群众中"
    is_extra = True


class VenueFactory(DjangoModelFactory):
    class Meta:
        model = Venue

    day = factory.SubFactory(ServiceDayFactory)
    station = factory.SubFactory(StationFactory)
    kind = Venue.Kind.SQUARE
    name = factory.Sequence(lambda n: f"月河广场{n}")
    address = "嘉兴市南湖区中山路1号"


class StallFactory(DjangoModelFactory):
    class Meta:
        model = Stall

    venue = factory.SubFactory(VenueFactory)
    service = "磨刀"


class ShiftFactory(DjangoModelFactory):
    """09:00–11:00 (Asia/Shanghai) on the stall's day, two places."""

    class Meta:
        model = Shift

    stall = factory.SubFactory(StallFactory)
    starts_at = factory.LazyAttribute(
        lambda o: timezone.make_aware(
            datetime.datetime.combine(o.stall.venue.day.date, datetime.time(9, 0))
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    capacity = 2


from events.models import Activity, Participation  # noqa: E402


class ActivityFactory(DjangoModelFactory):
    """A holiday-visit activity of a station, planned for a coming day."""

    class Meta:
        model = Activity

    title = factory.Sequence(lambda n: f"重阳节走访慰问{n}")
    kind = Activity.Kind.HOLIDAY_VISIT
    date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=7))
    station = factory.SubFactory(StationFactory)
    organizer = "建设街道分站"
    place = "建设街道各社区"


class ParticipationFactory(DjangoModelFactory):
    class Meta:
        model = Participation

    activity = factory.SubFactory(ActivityFactory)
    volunteer = factory.SubFactory(VolunteerFactory)
    status = Participation.Status.JOINED
