import datetime

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.filters import StationChoiceFilter, station_choices
from center.forms import DateInput, FastSelect
from center.models import ServiceCategory, ServiceItem

from . import selectors
from .models import Channel, ServiceRequest, Urgency


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
