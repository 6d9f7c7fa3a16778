"""Forms of the staff's service-day pages: input shape only; the rules are
the services' (``events.services.days``, ``events.services.stalls``).

Dates and times use the ISO inputs (``type="date"``, ``type="time"``): the
browser reads only ISO values, whatever the page's language (zh-hans would
otherwise localize them and leave the field empty)."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from center.forms import DateInput, fast_choices, station_choices
from center.models import ServiceItem
from volunteers.models import Merchant, Organization, ServiceTeam

from .models import Stall, Venue
from .services.stalls import MAX_CAPACITY, MAX_MESSAGE


class TimeInput(forms.TimeInput):
    """``<input type=time>`` with an ISO value (09:30)."""

    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class _Helper:
    submit_label = _("Save")

    def _helper(self):
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


FIRST_DATE, LAST_DATE = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)


class EventDateField(forms.DateField):
    """A date of a service day or an activity: within 2000–2099 (the record's
    years); year 1 or 9999 is a typo, and would overflow the times."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DateInput)
        super().__init__(**kwargs)
        self.validators.append(
            MinValueValidator(FIRST_DATE, message=_("Enter a date from 2000 to 2099."))
        )
        self.validators.append(
            MaxValueValidator(LAST_DATE, message=_("Enter a date from 2000 to 2099."))
        )


class DayAddForm(forms.Form):
    """An extra service day (center managers); shown inline on the list."""

    date = EventDateField(label=_("Date"))
    theme = forms.CharField(
        label=_("Theme"),
        max_length=100,
        required=False,
        help_text=_("Empty: the default theme."),
    )


class DayMoveForm(forms.Form):
    """A new date for a service day (center managers); inline per day."""

    date = EventDateField(label=_("New date"))


class VenueForm(_Helper, forms.ModelForm):
    class Meta:
        model = Venue
        fields = ["station", "kind", "name", "address", "latitude", "longitude"]

    def __init__(self, *args, stations=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the manager's own stations (the service checks again).
        station_choices(self.fields["station"], stations)
        self.fields["latitude"].help_text = _("Optional: otherwise the station's location.")
        self._helper()


def _runner_choices(form, station_id: int) -> None:
    """Teams of the venue's station (and those under it), organizations,
    merchants who serve the station: each a one-query picker."""
    fast_choices(
        form.fields["item"],
        ServiceItem.objects.filter(is_active=True).order_by("category__sort_order", "code"),
        ("category__name", "name"),
        lambda category, name: f"{category} · {name}",
    )
    fast_choices(
        form.fields["team"],
        ServiceTeam.objects.filter(
            Q(station_id=station_id)
            | Q(station__parent_id=station_id)
            | Q(station__parent__parent_id=station_id),
            is_active=True,
        ).order_by("name", "pk"),
        ("name",),
        str,
    )
    fast_choices(
        form.fields["organization"],
        Organization.objects.order_by("name"),
        ("name",),
        str,
    )
    fast_choices(
        form.fields["merchant"],
        Merchant.objects.filter(stations=station_id).order_by("name", "pk"),
        ("name",),
        str,
    )


class StallForm(_Helper, forms.ModelForm):
    class Meta:
        model = Stall
        fields = ["item", "service", "team", "organization", "merchant"]

    def __init__(self, *args, venue: Venue, **kwargs):
        super().__init__(*args, **kwargs)
        _runner_choices(self, venue.station_id)
        self.fields["item"].help_text = _("Optional: a service item of the catalogue.")
        self.fields["service"].required = False
        self.fields["service"].help_text = _(
            "What the stall offers, as shown to volunteers (磨刀、理发…). "
            "Empty: the service item's name."
        )
        self.fields["team"].help_text = _(
            "Who runs the stall: leave all three empty for the station itself, or choose one."
        )
        self._helper()


class ShiftForm(_Helper, forms.Form):
    start = forms.TimeField(label=_("Starts at"), widget=TimeInput)
    end = forms.TimeField(label=_("Ends at"), widget=TimeInput)
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=MAX_CAPACITY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].help_text = _("On the service day, Beijing time.")
        self._helper()


class StallReportForm(_Helper, forms.Form):
    people_served = forms.IntegerField(label=_("People served"), min_value=0)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class DayMessageForm(_Helper, forms.Form):
    submit_label = _("Send")
    text = forms.CharField(
        label=_("Message"),
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A short message to every volunteer signed up or waiting at your venues."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class ConfirmDeleteForm(_Helper, forms.Form):
    submit_label = _("Delete")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()
        self.helper.inputs[0].field_classes = "btn btn-danger"
