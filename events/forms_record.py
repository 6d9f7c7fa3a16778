"""The manager's form on a record page: pick a highlight of the period."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Highlight
from .selectors_record import parse_period

_SUBJECT = re.compile(r"^(stall|activity|day):(\d{1,12})$")


class HighlightForm(forms.Form):
    """``subject`` is ``stall:<pk>``, ``activity:<pk>`` or ``day:<pk>`` (a
    radio list of the candidates on the page); ``period`` the page's period
    key. Whether the manager may choose that subject is the view's selector
    and the service's business, not the form's."""

    period = forms.CharField(widget=forms.HiddenInput, max_length=10)
    subject = forms.CharField(label=_("Highlight"), max_length=30)
    title = forms.CharField(
        label=_("Highlight title"), max_length=Highlight._meta.get_field("title").max_length
    )
    text = forms.CharField(
        label=_("A few words"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text=_(
            "Shown to everyone on the public record, as written: no names of "
            "volunteers or residents, no phone numbers."
        ),
    )

    def clean_period(self):
        period = parse_period(self.cleaned_data["period"])
        if period is None:
            raise forms.ValidationError(_("Choose a month, a quarter or a year."))
        return period

    def clean_subject(self):
        match = _SUBJECT.match(self.cleaned_data["subject"])
        if not match:
            raise forms.ValidationError(_("Choose a stall, an activity or a service day."))
        return match[1], int(match[2])
