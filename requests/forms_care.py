"""Forms of the care pages: input shape only; the rules are the services'
(``requests.services.care``)."""

import datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.forms import DateInput
from center.models import ServiceItem
from center.validators import MOBILE_RE, nfkc, normalize_mobile
from volunteers.models import Volunteer

from .forms import ItemChoiceField, _Helper
from .models import CareSlot, MicroWish, Urgency
from .selectors.care import nameable_volunteers
from .services.care import (
    MAX_CADENCE_DAYS,
    MAX_ROTA_EVERY_DAYS,
    MAX_ROTA_SLOTS,
    MAX_VISIT_MINUTES,
    not_in_reach_message,
)


class VolunteerNoField(forms.CharField):
    """A volunteer picked by their volunteer number (JX…) or their mobile
    (157k volunteers: no list), looked up among ``queryset``: the volunteers
    the user may name (``selectors.care.nameable_volunteers``, set by the
    form). An unknown number or mobile gets the same message as one the user
    may not name (``services.care.not_in_reach_message``): the form tells
    nobody which numbers exist, nor whose a mobile is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Volunteer number or mobile"))
        kwargs.setdefault(
            "help_text",
            _("The volunteer number (JX…) or the mobile number the volunteer registered with."),
        )
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.queryset = Volunteer.objects.all()

    def clean(self, value):
        typed = nfkc(super().clean(value) or "").upper()
        if not typed:
            return None
        mobile = normalize_mobile(typed)
        lookup = {"mobile": mobile} if MOBILE_RE.match(mobile) else {"volunteer_no": typed}
        volunteer = self.queryset.select_related("station").filter(**lookup).first()
        if volunteer is None:
            raise forms.ValidationError(not_in_reach_message(typed))
        return volunteer


class PairingForm(_Helper, forms.Form):
    submit_label = _("Pair")
    volunteer = VolunteerNoField()
    cadence_days = forms.IntegerField(
        label=_("Visit every (days)"), min_value=1, max_value=MAX_CADENCE_DAYS
    )
    started_on = forms.DateField(label=_("Started on"), widget=DateInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = nameable_volunteers(user=user)
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
    """Staff name the volunteer who went (by number or mobile, among those
    ``user`` may name for a visit of ``resident``); a volunteer records their
    own visit (``staff=False``: no volunteer field, and the health-facts help
    says to tell the station, whose staff record them under consent)."""

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

    def __init__(self, *args, staff: bool = True, slots=(), user=None, resident=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff:
            self.fields["volunteer"].queryset = nameable_volunteers(user=user, resident=resident)
        else:
            del self.fields["volunteer"]
            self.fields["found"].help_text = _(
                "Needs, living conditions. Health facts: tell the station; "
                "its staff record them with the resident's consent."
            )
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
    submit_label = _("Schedule the visits")
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
    """A visit's need as an order. A volunteer is not offered an emergency
    (``staff=False``): the service refuses it (the hotline takes those), and
    its message still answers one posted anyway."""

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

    def __init__(self, *args, staff: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].widget.attrs["data-searchable"] = _("Type to search the catalogue")
        if not staff:
            urgency = self.fields["urgency"]
            urgency.widget.choices = [c for c in urgency.choices if c[0] != Urgency.EMERGENCY]
            urgency.help_text = _(
                "An emergency goes through the hotline 96345: call it now. "
                "A need found on a visit is normal or urgent."
            )
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
