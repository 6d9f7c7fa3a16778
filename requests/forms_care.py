"""Forms of the care pages: input shape only; the rules are the services'
(``requests.services.care``)."""

import datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.forms import DateInput
from center.models import ServiceItem
from center.validators import nfkc
from volunteers.models import Volunteer

from .forms import ItemChoiceField, _Helper
from .models import CareSlot, MicroWish, Urgency
from .services.care import MAX_CADENCE_DAYS, MAX_ROTA_EVERY_DAYS, MAX_ROTA_SLOTS, MAX_VISIT_MINUTES


class VolunteerNoField(forms.CharField):
    """A volunteer picked by their volunteer number (157k volunteers: no list).
    An unknown number gets the same message as a number the user may not name
    (``services.care.not_in_reach_error``): the form tells nobody which
    numbers exist."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Volunteer number"))
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value):
        number = nfkc(super().clean(value) or "").upper()
        if not number:
            return None
        volunteer = Volunteer.objects.select_related("station").filter(volunteer_no=number).first()
        if volunteer is None:
            raise forms.ValidationError(
                _("No volunteer of the stations you manage has the number %(n)s.") % {"n": number}
            )
        return volunteer


class PairingForm(_Helper, forms.Form):
    submit_label = _("Pair")
    volunteer = VolunteerNoField()
    cadence_days = forms.IntegerField(
        label=_("Visit every (days)"), min_value=1, max_value=MAX_CADENCE_DAYS
    )
    started_on = forms.DateField(label=_("Started on"), widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadence_days"].initial = settings.LIANXIN["CARE_VISIT_CADENCE_DAYS"]
        self.fields["started_on"].initial = timezone.localdate()
        self._helper()


class PairingUpdateForm(_Helper, forms.Form):
    cadence_days = forms.IntegerField(
        label=_("Visit every (days)"), min_value=1, max_value=MAX_CADENCE_DAYS
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class PairingEndForm(_Helper, forms.Form):
    submit_label = _("End the pairing")
    reason = forms.CharField(label=_("Why it ends"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class VisitForm(_Helper, forms.Form):
    """Staff name the volunteer who went; a volunteer records their own visit
    (``staff=False``: no volunteer field)."""

    submit_label = _("Record the visit")
    volunteer = VolunteerNoField()
    visited_on = forms.DateField(label=_("Visited on"), widget=DateInput)
    minutes = forms.IntegerField(label=_("Minutes spent"), min_value=1, max_value=MAX_VISIT_MINUTES)
    found = forms.CharField(
        label=_("What was found"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Needs, living conditions. Health facts go in the resident's sensitive record."
        ),
    )
    slot = forms.ModelChoiceField(
        label=_("Rota visit"), queryset=CareSlot.objects.none(), required=False
    )

    def __init__(self, *args, staff: bool = True, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["volunteer"]
        self.fields["visited_on"].initial = timezone.localdate()
        self.fields["minutes"].initial = 60
        slots = list(slots)
        if slots:
            self.fields["slot"].queryset = CareSlot.objects.filter(pk__in=[s.pk for s in slots])
            self.fields["slot"].choices = [("", "—")] + [
                (s.pk, s.due_on.isoformat()) for s in slots
            ]
        else:
            del self.fields["slot"]
        self._helper()


class RotaForm(_Helper, forms.Form):
    submit_label = _("Schedule")
    first_on = forms.DateField(label=_("First visit on"), widget=DateInput)
    every_days = forms.IntegerField(
        label=_("Then every (days)"), min_value=1, max_value=MAX_ROTA_EVERY_DAYS, initial=7
    )
    count = forms.IntegerField(
        label=_("Number of visits"), min_value=1, max_value=MAX_ROTA_SLOTS, initial=8
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_on"].initial = timezone.localdate() + datetime.timedelta(days=1)
        self._helper()


class NeedOrderForm(_Helper, forms.Form):
    submit_label = _("Create an order")
    item = ItemChoiceField(
        label=_("Service item"),
        queryset=ServiceItem.objects.filter(is_active=True).order_by(
            "category__sort_order", "code"
        ),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    description = forms.CharField(
        label=_("What is needed"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].widget.attrs["data-searchable"] = _("Type to search the catalogue")
        self._helper()


class NeedWishForm(_Helper, forms.Form):
    submit_label = _("Create a micro-wish")
    title = forms.CharField(label=_("Wish"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=MicroWish.Kind.choices)
    estimated_cost = forms.DecimalField(
        label=_("Estimated cost (yuan)"), min_value=0, max_digits=8, decimal_places=2, initial=0
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deadline"].initial = timezone.localdate() + datetime.timedelta(days=30)
        self._helper()
