import datetime

import django_filters
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.filters import StationChoiceFilter, YesNoFilter, station_choices
from center.forms import DateInput, FastSelect, community_choices
from center.models import ServiceCategory, ServiceItem, Station

from . import selectors
from .models import Channel, Resident, ResidentGroup, ServiceRequest, SpecialGroup, Urgency


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class OrderFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(label=_("Order number or phone"), method="filter_number")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ServiceRequest.Status.choices)
    station = StationChoiceFilter(label=_("Station"), queryset=station_choices)
    item = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Service item"), queryset=ServiceItem.objects.order_by("code")
    )
    category = django_filters.ModelChoiceFilter(
        widget=FastSelect,
        label=_("Category"),
        queryset=ServiceCategory.objects.order_by("sort_order"),
        field_name="item__category",
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    urgency = django_filters.ChoiceFilter(label=_("Urgency"), choices=Urgency.choices)
    # Compared as datetimes (not __date) so the received_at indexes serve the range.
    received_from = django_filters.DateFilter(
        label=_("From"), method="filter_from", widget=DateInput
    )
    received_to = django_filters.DateFilter(label=_("To"), method="filter_to", widget=DateInput)
    overdue = django_filters.ChoiceFilter(
        label=_("Overdue"),
        choices=[("yellow", _("Yellow or red")), ("red", _("Red"))],
        method="filter_overdue",
    )
    provider = django_filters.CharFilter(
        label=_("Provider (volunteer number)"), method="filter_provider"
    )

    class Meta:
        model = ServiceRequest
        fields = ["number", "status", "station", "item", "category", "channel", "urgency"]

    def filter_number(self, queryset, name, value):
        # The back office's search too: a number exactly, or a phone number.
        return selectors.order_search(queryset, value)

    def filter_from(self, queryset, name, value):
        return queryset.filter(received_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(received_at__lt=_start_of(value + datetime.timedelta(days=1)))

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(selectors.overdue_q(value))

    def filter_provider(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(provider__volunteer__volunteer_no=value) if value else queryset


def _communities(request):
    from .selectors.residents import registry_communities

    return registry_communities(user=getattr(request, "user", None))


class ResidentFilter(django_filters.FilterSet):
    """The residents list (issue 11). Each filter is an index lookup or an
    EXISTS on an indexed foreign key: no join, no DISTINCT. Operators are not
    offered sensitive groups (filtering by one would disclose membership)."""

    q = django_filters.CharFilter(label=_("Name or phone"), method="filter_q")
    # Both scoped to the user (a station manager's stations, the communities
    # they serve: several communities share a name, so each reads 街道 · 社区).
    station = StationChoiceFilter(
        label=_("Station"), queryset=station_choices, method="filter_station"
    )
    community = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Community"), queryset=_communities
    )
    group = django_filters.ModelChoiceFilter(
        label=_("Member of group"), queryset=SpecialGroup.objects.none(), method="filter_group"
    )
    special = YesNoFilter(label=_("In a special group"), field_name="is_special")
    paired = YesNoFilter(label=_("Paired"), method="filter_paired")
    is_free = YesNoFilter(label=_("Served free"))
    contact_before = django_filters.DateFilter(
        label=_("Last contact before"), method="filter_contact_before", widget=DateInput
    )
    contact_after = django_filters.DateFilter(
        label=_("Last contact after"), method="filter_contact_after", widget=DateInput
    )

    class Meta:
        model = Resident
        fields = ["q", "station", "community", "group", "special", "paired", "is_free"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from center.roles import is_manager

        groups = SpecialGroup.objects.filter(is_active=True).order_by("order", "id")
        user = getattr(self.request, "user", None)
        if not (user and is_manager(user)):
            groups = groups.filter(is_sensitive=False)
        self.filters["group"].queryset = groups
        self.form.fields["group"].queryset = groups
        community = self.form.fields["community"]
        scoped = community.queryset
        community_choices(community)  # labelled 街道 · 社区, as on every form
        community.queryset = scoped

    def filter_q(self, queryset, name, value):
        return selectors.resident_search(queryset, value)

    def filter_station(self, queryset, name, value):
        served = Station.communities.through.objects.filter(
            station_id=value.pk, area_id=OuterRef("community_id")
        )
        return queryset.filter(Exists(served))

    def filter_group(self, queryset, name, value):
        # residentgroup_group (group, resident)
        members = ResidentGroup.objects.filter(group=value, resident_id=OuterRef("pk"))
        return queryset.filter(Exists(members))

    def filter_paired(self, queryset, name, value):
        from .selectors.residents import paired_q

        return queryset.filter(paired_q()) if value else queryset.exclude(paired_q())

    def filter_contact_before(self, queryset, name, value):
        return queryset.filter(last_contact_at__lt=_start_of(value))

    def filter_contact_after(self, queryset, name, value):
        return queryset.filter(last_contact_at__gte=_start_of(value))
