"""What the monthly report page and the export form accept: a month
(``YYYY-MM``) or a date range, a station (and the stations under it) within
the user's, and for a file its format."""

import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.forms import DateInput, StationChoiceField
from center.models import Station
from center.roles import ALL, station_ids_for

from .models import ReportExport
from .selectors_report import MAX_DAYS, month_bounds, previous_month

_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


class ReportForm(forms.Form):
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-10"}),
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    station = StationChoiceField(
        label=_("Station"),
        queryset=Station.objects.none(),
        required=False,
        empty_label=_("All my stations"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        ids = station_ids_for(user)
        stations = Station.objects.order_by("code")
        self.fields["station"].queryset = stations if ids is ALL else stations.filter(pk__in=ids)
        if ids is ALL:
            self.fields["station"].empty_label = _("City-wide")
        # Bootstrap's look (the templates lay the fields out in one row).
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            css = "form-select form-select-sm" if select else "form-control form-control-sm"
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()

    def clean_month(self) -> str:
        value = (self.cleaned_data.get("month") or "").strip()
        if value:
            match = _MONTH.fullmatch(value)
            if not match or not 2000 <= int(match[1]) <= 2099 or not 1 <= int(match[2]) <= 12:
                raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return value

    def clean(self):
        data = super().clean()
        month, start, end = data.get("month"), data.get("start"), data.get("end")
        if month:
            start, end = month_bounds(datetime.date(int(month[:4]), int(month[5:7]), 1))
        elif start or end:
            if not (start and end):
                raise forms.ValidationError(_("Give both dates of the range, or a month."))
        elif not self.errors:
            start, end = previous_month()
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end date is before the start date."))
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("A report covers at most %(days)s days.") % {"days": MAX_DAYS}
                )
            if start > timezone.localdate():
                raise forms.ValidationError(_("The range has not begun yet."))
            if start.year < 2000:
                raise forms.ValidationError(_("Reports begin in 2000."))
        data["start"], data["end"] = start, end
        return data


class ExportForm(ReportForm):
    format = forms.ChoiceField(
        label=_("Format"), choices=ReportExport.Format.choices, initial=ReportExport.Format.XLSX
    )
