"""Forms of the activity pages: input shape only; the rules are the
services' (``events.services.activities``)."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.filters import station_choices as stations_for_request
from center.forms import StationChoiceField, fast_choices, station_choices
from center.models import Area, Specialty, Station
from center.roles import ALL, station_ids_for
from center.validators import MOBILE_RE, nfkc, normalize_mobile
from volunteers.models import Volunteer

from .forms import EventDateField
from .models import Activity
from .services.activities import not_in_reach_message
from .services.signups import SERVICE_TZ


class _Helper:
    submit_label = _("Save")

    def _helper(self):
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class TimeInput(forms.TimeInput):
    """``<input type=time>``: the browser sends HH:MM whatever the language."""

    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def _managed_stations(user):
    """The active stations ``user`` may organise activities for."""
    qs = Station.objects.filter(is_active=True).select_related("district", "parent")
    ids = station_ids_for(user)
    if ids is not ALL:
        qs = qs.filter(pk__in=ids)
    return qs.order_by("code")


def _area_choices(field) -> None:
    """Every district, street and community, by code, labelled with the
    area above it (a call-up mobilises the volunteers living in the area)."""
    fast_choices(
        field,
        Area.objects.order_by("code"),
        ("parent__name", "name"),
        lambda parent, name: f"{parent} · {name}" if parent else name,
    )


def _at(day: datetime.date, t: datetime.time | None) -> datetime.datetime | None:
    if day is None or t is None:
        return None
    return datetime.datetime.combine(day, t, tzinfo=SERVICE_TZ)


class ActivityForm(_Helper, forms.Form):
    """Plan or edit an activity. Times are on the activity's date
    (Asia/Shanghai); ``cleaned_data`` carries ``starts_at``/``ends_at``."""

    title = forms.CharField(label=_("Title"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    date = EventDateField(label=_("Date"))
    start_time = forms.TimeField(label=_("From"), required=False, widget=TimeInput)
    end_time = forms.TimeField(label=_("To"), required=False, widget=TimeInput)
    station = StationChoiceField(label=_("Organizing station"), queryset=Station.objects.none())
    organizer = forms.CharField(
        label=_("Organizer"),
        max_length=100,
        help_text=_("As said in public: the station, a department, a company…"),
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    area = forms.ModelChoiceField(
        label=_("Area to call up"),
        queryset=Area.objects.none(),
        required=False,
        help_text=_(
            "A call-up invites the volunteers living in this district, street or community."
        ),
    )
    specialty = forms.ModelChoiceField(
        label=_("Specialty to call up"),
        queryset=Specialty.objects.order_by("code"),
        required=False,
        help_text=_(
            "A call-up invites the volunteers with this specialty (and in the area, if set)."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user=None, instance: Activity | None = None, **kwargs):
        if instance is not None:
            # The activity's values under whatever the view passed (FormView
            # always passes an ``initial``, empty by default).
            kwargs["initial"] = {**_initial_of(instance), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        station_choices(self.fields["station"], _managed_stations(user))
        _area_choices(self.fields["area"])
        if instance is None:
            self.fields["date"].initial = timezone.localdate()
            self.submit_label = _("Plan the activity")
        self._helper()

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Enter both times, or neither."))
        data["starts_at"] = _at(data.get("date"), start)
        data["ends_at"] = _at(data.get("date"), end)
        return data

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("start_time", None)
        data.pop("end_time", None)
        return data


def _initial_of(activity: Activity) -> dict:
    def local(t):
        return timezone.localtime(t, SERVICE_TZ).time() if t else None

    return {
        "title": activity.title,
        "kind": activity.kind,
        "date": activity.date,
        "start_time": local(activity.starts_at),
        "end_time": local(activity.ends_at),
        "station": activity.station_id,
        "organizer": activity.organizer,
        "place": activity.place,
        "area": activity.area_id,
        "specialty": activity.specialty_id,
        "notes": activity.notes,
    }


class HeldForm(_Helper, forms.Form):
    submit_label = _("Mark as held")
    people_served = forms.IntegerField(label=_("People served"), min_value=0, max_value=1_000_000)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class CancelForm(_Helper, forms.Form):
    submit_label = _("Cancel the activity")
    reason = forms.CharField(
        label=_("Why it is cancelled"),
        max_length=200,
        required=False,
        help_text=_("Sent to the invited and joined volunteers."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class VolunteerNoField(forms.CharField):
    """A volunteer by number (JX…) or mobile among ``queryset`` (the ones the
    user may name); an unknown number gets the same message as another
    station's, so the form tells nobody which numbers exist."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Volunteer number or mobile"))
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.queryset = Volunteer.objects.none()

    def clean(self, value):
        typed = nfkc(super().clean(value) or "").upper()
        if not typed:
            raise forms.ValidationError(_("Enter the volunteer's number or mobile."))
        mobile = normalize_mobile(typed)
        lookup = {"mobile": mobile} if MOBILE_RE.match(mobile) else {"volunteer_no": typed}
        volunteer = self.queryset.filter(**lookup).first()
        if volunteer is None:
            raise forms.ValidationError(not_in_reach_message(typed))
        return volunteer


class ParticipantForm(_Helper, forms.Form):
    submit_label = _("Add")
    volunteer = VolunteerNoField()

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Volunteer.objects.all()
        ids = station_ids_for(user) if user is not None else ALL
        if ids is not ALL:
            qs = qs.filter(station_id__in=ids)
        self.fields["volunteer"].queryset = qs
        self._helper()


class RecordForm(forms.Form):
    """One row of the attendance list: came or not, and the hours."""

    attended = forms.TypedChoiceField(
        label=_("Attendance"),
        choices=[("1", _("Attended")), ("0", _("Absent"))],
        coerce=lambda v: v == "1",
    )
    hours = forms.DecimalField(
        label=_("Hours"), required=False, min_value=0, max_value=24, decimal_places=2
    )


class ActivityFilterForm(forms.Form):
    """The list's filters (GET): kind, status, station, dates."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", "---------"), *Activity.Kind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "---------"), *Activity.Status.choices]
    )
    station = StationChoiceField(
        label=_("Station"), queryset=Station.objects.none(), required=False
    )
    date_from = EventDateField(label=_("From"), required=False)
    date_to = EventDateField(label=_("To"), required=False)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        station_choices(self.fields["station"], stations_for_request(request))

    def filters(self) -> dict:
        self.is_valid()  # the valid fields filter; an invalid one is shown with its error
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
