import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from center.filters import StationChoiceFilter, YesNoFilter, station_choices
from center.forms import FastSelect
from center.models import Specialty
from center.validators import MOBILE_RE, normalize_mobile

from . import selectors, stars
from .models import Complaint, Merchant, Post, ProviderStatus, ServiceTeam, Volunteer


def star_choices() -> list[tuple[int, str]]:
    """No star, then one choice per level in settings STAR_THRESHOLDS (read
    when the form is built, in the reader's language)."""
    levels = range(1, len(stars.thresholds()) + 1)
    return [(0, _("No star yet")), *((n, _("%(n)s stars") % {"n": n}) for n in levels)]


class VolunteerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Number, mobile or name"), method="filter_q")
    station = StationChoiceFilter(label=_("Station"), queryset=station_choices)
    specialty = django_filters.ModelChoiceFilter(
        widget=FastSelect,
        label=_("Specialty"),
        queryset=Specialty.objects.order_by("code"),
        field_name="specialties",
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Volunteer.Kind.choices)
    is_party_member = YesNoFilter(label=_("Party member"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProviderStatus.choices)
    star = django_filters.ChoiceFilter(
        label=_("Star level"), choices=star_choices, method="filter_star"
    )
    on_duty = YesNoFilter(label=_("On duty"))

    class Meta:
        model = Volunteer
        fields = [
            "q",
            "station",
            "specialty",
            "kind",
            "is_party_member",
            "status",
            "star",
            "on_duty",
        ]

    def filter_q(self, queryset, name, value):
        """Exact number or mobile (unique indexes), else a name prefix (index on name)."""
        value = value.strip()
        if not value:
            return queryset
        if value.upper().startswith("JX"):
            return queryset.filter(volunteer_no=value.upper())
        mobile = normalize_mobile(value)
        if MOBILE_RE.match(mobile):
            return queryset.filter(mobile=mobile)
        return queryset.filter(name__startswith=value)

    def filter_star(self, queryset, name, value):
        return queryset.filter(selectors.star_filter(int(value)))


class MerchantFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, licence or mobile"), method="filter_q")
    station = StationChoiceFilter(
        label=_("Station"), queryset=station_choices, method="filter_station"
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Merchant.Kind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProviderStatus.choices)

    class Meta:
        model = Merchant
        fields = ["q", "station", "kind", "status"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        mobile = normalize_mobile(value)
        if MOBILE_RE.match(mobile):
            return queryset.filter(mobile=mobile)
        return queryset.filter(Q(licence_no=value) | Q(name__startswith=value))

    def filter_station(self, queryset, name, value):
        served = Merchant.stations.through.objects.filter(station=value).values("merchant_id")
        return queryset.filter(pk__in=served)


class TeamFilter(django_filters.FilterSet):
    station = StationChoiceFilter(label=_("Station"), queryset=station_choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ServiceTeam.Kind.choices)
    specialty = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Specialty"), queryset=Specialty.objects.order_by("code")
    )

    class Meta:
        model = ServiceTeam
        fields = ["station", "kind", "specialty"]


class ComplaintFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Complaint.Status.choices)

    class Meta:
        model = Complaint
        fields = ["status"]


class PostFilter(django_filters.FilterSet):
    station = StationChoiceFilter(label=_("Station"), queryset=station_choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Post.Kind.choices)
    is_open = YesNoFilter(label=_("Open for claims"))

    class Meta:
        model = Post
        fields = ["station", "kind", "is_open"]
