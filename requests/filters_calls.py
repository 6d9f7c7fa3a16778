"""Filters of the call log and the unmatched requests (issue 14, part A).
Each is served by an index: the call log's time range by ``call_at`` (or
``call_station`` / ``call_operator`` with a station or an operator), the
unmatched requests' dates by ``unmatched_date`` / ``unmatched_station``."""

import datetime

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from center.filters import StationChoiceFilter, station_choices
from center.forms import DateInput, FastSelect, community_choices
from center.models import Role, ServiceCategory, User
from center.roles import ALL, station_ids_for

from .models import CallLog, UnmatchedRequest, unmatched_words
from .selectors.calls import day_start


def _staff_users(request):
    """Who may have logged a call: the staff logins (a few dozen). A station
    manager chooses among the city-wide staff and their own stations'
    managers, never the list of every other station's managers."""
    staff = User.objects.filter(
        role__in=[Role.OPERATOR, Role.STATION_MANAGER, Role.CENTER_MANAGER], is_active=True
    )
    ids = station_ids_for(getattr(request, "user", None))
    if ids is not ALL:
        staff = staff.filter(
            Q(role__in=[Role.OPERATOR, Role.CENTER_MANAGER]) | Q(stations__in=ids)
        ).distinct()
    return staff.order_by("username")


def _categories(request):
    return ServiceCategory.objects.order_by("sort_order", "code")


class CallFilter(django_filters.FilterSet):
    # Compared as datetimes of the center's day (not __date) so the indexes serve the range.
    date_from = django_filters.DateFilter(label=_("From"), method="filter_from", widget=DateInput)
    date_to = django_filters.DateFilter(label=_("To"), method="filter_to", widget=DateInput)
    kind = django_filters.ChoiceFilter(label=_("Kind of call"), choices=CallLog.Kind.choices)
    station = StationChoiceFilter(label=_("Station"), queryset=station_choices)
    operator = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Operator"), queryset=_staff_users
    )
    category = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Category"), queryset=_categories
    )

    class Meta:
        model = CallLog
        fields = ["date_from", "date_to", "kind", "station", "operator", "category"]

    def filter_from(self, queryset, name, value):
        return queryset.filter(at__gte=day_start(value))

    def filter_to(self, queryset, name, value):
        if value >= datetime.date.max - datetime.timedelta(days=1):
            return queryset  # the end of time: no bound (and no overflow)
        return queryset.filter(at__lt=day_start(value + datetime.timedelta(days=1)))


def _communities(request):
    from .selectors.residents import registry_communities

    return registry_communities(user=getattr(request, "user", None))


class UnmatchedFilter(django_filters.FilterSet):
    def filter_words(self, queryset, name, value):
        words = unmatched_words(value)
        return queryset.filter(words__contains=words) if words else queryset

    date_from = django_filters.DateFilter(
        label=_("From"), field_name="occurred_on", lookup_expr="gte", widget=DateInput
    )
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="occurred_on", lookup_expr="lte", widget=DateInput
    )
    # The weathervane links a group here by its most-used wording; every
    # wording of the group matches (the normalised words, as it groups them).
    # Rows are few (about 30 a day city-wide) and the dates bound the scan.
    q = django_filters.CharFilter(label=_("Words"), method="filter_words", max_length=200)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=UnmatchedRequest.Source.choices)
    category = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Category"), queryset=_categories
    )
    station = StationChoiceFilter(label=_("Station"), queryset=station_choices)
    community = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Community"), queryset=_communities
    )

    class Meta:
        model = UnmatchedRequest
        fields = ["date_from", "date_to", "q", "source", "category", "station", "community"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        community = self.form.fields["community"]
        scoped = community.queryset
        community_choices(community)  # labelled 街道 · 社区, as on every form
        community.queryset = scoped
