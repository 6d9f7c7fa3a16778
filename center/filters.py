import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Area, ServiceCategory, ServiceItem, Specialty, Station


class StationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or code"), method="filter_q")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Station.Kind.choices)
    district = django_filters.ModelChoiceFilter(
        label=_("District"),
        queryset=Area.objects.filter(level=Area.Level.DISTRICT).order_by("code"),
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))

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
        label=_("Category"), queryset=ServiceCategory.objects.all()
    )
    specialty = django_filters.ModelChoiceFilter(
        label=_("Specialty"), queryset=Specialty.objects.all()
    )
    free_for_special_groups = django_filters.BooleanFilter(label=_("Free for special groups"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

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
