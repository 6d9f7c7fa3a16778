import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .forms import FastSelect, StationChoiceField
from .models import Area, ServiceCategory, ServiceItem, Specialty, Station
from .roles import ALL, station_ids_for


def station_choices(request):
    """The active stations ``request.user`` may see, for a station filter's
    choices (every list of every app uses this one)."""
    user = getattr(request, "user", None)
    qs = (
        Station.objects.filter(is_active=True).select_related("district", "parent").order_by("code")
    )
    ids = station_ids_for(user) if user else frozenset()
    return qs if ids is ALL else qs.filter(pk__in=ids)


class YesNoAllSelect(forms.NullBooleanSelect):
    """全部 / 是 / 否: a list filter starts at "all", not at Django's "unknown"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", _("All")), ("true", _("Yes")), ("false", _("No"))]

    def format_value(self, value):
        value = super().format_value(value)
        return "" if value == "unknown" else value


class YesNoFilter(django_filters.BooleanFilter):
    """The one yes/no filter of every list (党员, 值班, 开放认领, 启用, …)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", YesNoAllSelect)
        super().__init__(*args, **kwargs)


class StationChoiceFilter(django_filters.ModelChoiceFilter):
    """A station filter whose choices show the station's place (``display_name``);
    its queryset should select_related("district", "parent")."""

    field_class = StationChoiceField


class StationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or code"), method="filter_q")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Station.Kind.choices)
    district = django_filters.ModelChoiceFilter(
        widget=FastSelect,
        label=_("District"),
        queryset=Area.objects.filter(level=Area.Level.DISTRICT).order_by("code"),
    )
    is_active = YesNoFilter(label=_("Active"))

    class Meta:
        model = Station
        fields = ["q", "kind", "district", "is_active"]

    def filter_q(self, queryset, name, value):
        # Stations number in the hundreds: a contains match is cheap here.
        value = value.strip()
        return (
            queryset.filter(Q(name__contains=value) | Q(code__istartswith=value))
            if value
            else queryset
        )


class ServiceItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    category = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Category"), queryset=ServiceCategory.objects.all()
    )
    specialty = django_filters.ModelChoiceFilter(
        widget=FastSelect, label=_("Specialty"), queryset=Specialty.objects.all()
    )
    free_for_special_groups = YesNoFilter(label=_("Free for special groups"))
    is_active = YesNoFilter(label=_("Active"))

    class Meta:
        model = ServiceItem
        fields = ["q", "category", "specialty", "free_for_special_groups", "is_active"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(name__contains=value) | Q(code__istartswith=value))
            if value
            else queryset
        )
