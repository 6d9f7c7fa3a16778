"""Forms of the call panel and the community-talk entry (issue 14, part A):
input shape only; the rules are ``requests.services.calls``'."""

import datetime
import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.forms import DateInput, FastSelect, community_choices, station_choices
from center.models import ServiceCategory

from .models import CallLog

# "3:25", "03:25", "3" (minutes), "0:45"; full-width colons as typed with an IME.
DURATION_RE = re.compile(r"^\s*(\d{1,3})(?:\s*[:：]\s*([0-5]?\d))?\s*$")


def parse_duration(value: str) -> int | None:
    """Seconds of a duration typed as minutes:seconds (or whole minutes);
    None when empty. Raises ValueError when it is neither."""
    value = (value or "").strip()
    if not value:
        return None
    m = DURATION_RE.match(value)
    if not m:
        raise ValueError(value)
    return int(m.group(1)) * 60 + int(m.group(2) or 0)


PANEL_KINDS = [(k, label) for k, label in CallLog.Kind.choices if k != CallLog.Kind.ORDER]


class CallPanelForm(forms.Form):
    """The console's call panel. The caller's number comes from the
    console's number field (``hx-include``); ``resident`` and ``order`` are
    set when the panel asks which one (several residents share the number,
    a repeat call names its order)."""

    kind = forms.ChoiceField(label=_("Kind of call"), choices=PANEL_KINDS, widget=forms.RadioSelect)
    phone = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    resident = forms.IntegerField(required=False, widget=forms.HiddenInput)
    order = forms.IntegerField(required=False, widget=forms.HiddenInput)
    order_number = forms.CharField(label=_("Order number"), required=False, max_length=20)
    urge = forms.BooleanField(
        label=_("Urge the order (催办): tell the provider and the station"),
        required=False,
        initial=True,
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=ServiceCategory.objects.filter(is_active=True).order_by("sort_order", "code"),
        required=False,
        widget=FastSelect,
    )
    duration = forms.CharField(
        label=_("Duration (min:s)"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"placeholder": "3:20", "inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=500, widget=forms.TextInput()
    )
    unmatched_text = forms.CharField(
        label=_("No catalogue item matches: what was asked for"),
        required=False,
        max_length=200,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "call_%s")  # the console page has the resident form too
        super().__init__(*args, **kwargs)

    def clean_duration(self) -> int | None:
        try:
            return parse_duration(self.cleaned_data.get("duration", ""))
        except ValueError:
            raise forms.ValidationError(
                _("Type the duration as minutes:seconds, e.g. 3:20.")
            ) from None

    def clean(self):
        data = super().clean()
        if data.get("unmatched_text", "").strip() and not data.get("category"):
            self.add_error("category", _("Choose the category the need belongs to."))
        return data


class TalkForm(forms.Form):
    """A suggestion raised at a community talk (社区议事)."""

    text = forms.CharField(label=_("What was asked for"), max_length=200)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=ServiceCategory.objects.order_by("sort_order", "code"),
        required=False,
        widget=FastSelect,
    )
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=None, required=False, widget=FastSelect
    )
    station = forms.ModelChoiceField(
        label=_("Station"),
        queryset=None,
        required=False,
        widget=FastSelect,
        help_text=_("Left empty: the station serving the community."),
    )
    occasion = forms.CharField(label=_("Meeting"), max_length=120)
    mentions = forms.IntegerField(
        label=_("People who raised it"), min_value=1, max_value=1000, initial=1
    )
    occurred_on = forms.DateField(label=_("Date"), widget=DateInput)

    def clean_occurred_on(self):
        """A talk already held, this century (a slip of the year would keep
        the row at the top of the list and in no period)."""
        value = self.cleaned_data["occurred_on"]
        if not datetime.date(2000, 1, 1) <= value <= timezone.localdate():
            raise forms.ValidationError(_("Give the date the talk was held (not in the future)."))
        return value

    def __init__(self, *args, communities, stations, **kwargs):
        super().__init__(*args, **kwargs)
        community = self.fields["community"]
        community.queryset = communities
        community_choices(community)
        community.queryset = communities
        station_choices(self.fields["station"], stations)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))
