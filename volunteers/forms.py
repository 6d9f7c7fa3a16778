from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from center.forms import (
    BoundedModelMultipleChoiceField,
    DateInput,
    IdNumberField,
    PhoneField,
    community_choices,
    keep_on_file,
    station_choices,
)
from center.models import ServiceItem, Specialty, Station
from center.roles import ALL, station_ids_for

from . import availability
from .models import Merchant, Organization, Post, ServiceTeam, Volunteer


def scoped_stations(user):
    qs = Station.objects.filter(is_active=True).order_by("code")
    ids = station_ids_for(user)
    return qs if ids is ALL else qs.filter(pk__in=ids)


class _Crispy:
    submit_label = _("Save")

    def _helper(self):
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class VolunteerForm(_Crispy, forms.ModelForm):
    mobile = PhoneField(label=_("mobile"), mobile_only=True)
    id_number = IdNumberField(label=_("ID number"), required=False)

    class Meta:
        model = Volunteer
        fields = [
            "name",
            "mobile",
            "id_number",
            "is_party_member",
            "party_join_date",
            "party_branch",
            "kind",
            "organization",
            "station",
            "community",
            "latitude",
            "longitude",
            "specialties",
            "service_items",
            "on_duty",
        ]
        field_classes = {
            "specialties": BoundedModelMultipleChoiceField,
            "service_items": BoundedModelMultipleChoiceField,
        }
        widgets = {
            "party_join_date": DateInput,
            "specialties": forms.CheckboxSelectMultiple,
            "service_items": forms.SelectMultiple(attrs={"size": 8}),
        }

    availability = forms.CharField(
        label=_("Weekly availability"),
        required=False,
        help_text=_("e.g. 周一 18:00-21:00；周六 09:00-17:00"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["availability"] = availability.format_text(self.instance.weekly_availability)
        station_choices(self.fields["station"], scoped_stations(user))
        community_choices(self.fields["community"])
        self.fields["specialties"].queryset = Specialty.objects.order_by("code")
        self.fields["service_items"].queryset = ServiceItem.objects.filter(is_active=True).order_by(
            "code"
        )
        self.fields["organization"].queryset = Organization.objects.order_by("name")
        # Stored numbers are never sent to the browser; empty keeps them.
        if self.instance.pk and self.instance.id_number:
            keep_on_file(self, "id_number", self.instance.masked_id_number)
        if self.instance.pk and self.instance.mobile:
            keep_on_file(self, "mobile", self.instance.masked_mobile)
        self._helper()

    def clean_availability(self):
        return availability.parse(self.cleaned_data["availability"])

    def clean_id_number(self):
        value = self.cleaned_data.get("id_number")
        if not value and self.instance.pk:
            return self.instance.id_number
        return value or None

    def clean_mobile(self):
        value = self.cleaned_data.get("mobile")
        if not value and self.instance.pk:
            return self.instance.mobile
        return value


class MerchantForm(_Crispy, forms.ModelForm):
    mobile = PhoneField(label=_("mobile"), mobile_only=True)

    class Meta:
        model = Merchant
        fields = [
            "name",
            "kind",
            "licence_no",
            "contact_name",
            "mobile",
            "address",
            "staff_count",
            "stations",
        ]
        widgets = {"stations": forms.SelectMultiple(attrs={"size": 8})}
        field_classes = {"stations": BoundedModelMultipleChoiceField}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        station_choices(self.fields["stations"], scoped_stations(user))
        if self.instance.pk and self.instance.mobile:
            keep_on_file(self, "mobile", self.instance.masked_mobile)
        self._helper()

    def clean_mobile(self):
        value = self.cleaned_data.get("mobile")
        if not value and self.instance.pk:
            return self.instance.mobile
        return value


class MerchantOfferForm(_Crispy, forms.Form):
    submit_label = _("Set price")
    item = forms.ModelChoiceField(
        label=_("Service item"),
        queryset=ServiceItem.objects.filter(is_active=True).order_by("code"),
    )
    price = forms.DecimalField(label=_("Price (yuan)"), min_value=0, max_digits=8, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class TeamForm(_Crispy, forms.ModelForm):
    class Meta:
        model = ServiceTeam
        fields = ["name", "kind", "specialty", "station", "is_active"]

    # 157k volunteers do not fit a <select>: the leader is named by number.
    leader_no = forms.CharField(label=_("Leader's volunteer number"), required=False, max_length=16)
    member_nos = forms.CharField(
        label=_("Members' volunteer numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line or separated by commas."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        station_choices(self.fields["station"], scoped_stations(user))
        if self.instance.pk:
            self.initial["leader_no"] = (
                self.instance.leader.volunteer_no if self.instance.leader else ""
            )
            self.initial["member_nos"] = "\n".join(
                self.instance.members.values_list("volunteer_no", flat=True)
            )
        self._helper()

    def _volunteers(self, numbers: list[str]) -> list[Volunteer]:
        ids = station_ids_for(self.user)
        qs = Volunteer.objects.filter(volunteer_no__in=numbers)
        found = list(qs if ids is ALL else qs.filter(station_id__in=ids))
        unknown = sorted(set(numbers) - {v.volunteer_no for v in found})
        if unknown:
            raise forms.ValidationError(
                _("Unknown volunteer numbers: %(numbers)s") % {"numbers": "、".join(unknown)}
            )
        return found

    def clean_leader_no(self):
        number = self.cleaned_data["leader_no"].strip().upper()
        return self._volunteers([number])[0] if number else None

    def clean_member_nos(self):
        raw = self.cleaned_data["member_nos"].replace(",", "\n").replace("，", "\n")
        numbers = sorted({n.strip().upper() for n in raw.splitlines() if n.strip()})
        return self._volunteers(numbers) if numbers else []


class PostForm(_Crispy, forms.ModelForm):
    class Meta:
        model = Post
        fields = ["station", "title", "kind", "schedule", "description", "capacity", "is_open"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        station_choices(self.fields["station"], scoped_stations(user))
        self._helper()


class ComplaintForm(_Crispy, forms.Form):
    submit_label = _("Record complaint")
    description = forms.CharField(
        label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class RulingForm(_Crispy, forms.Form):
    submit_label = _("Record ruling")
    valid = forms.TypedChoiceField(
        label=_("Ruling"),
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        choices=[("1", _("Valid: apply the sanction ladder")), ("0", _("Invalid: no sanction"))],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class RevokeForm(_Crispy, forms.Form):
    submit_label = _("Revoke sanction")
    reason = forms.CharField(
        label=_("Reason (appeal upheld because…)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class HoursForm(_Crispy, forms.Form):
    submit_label = _("Record hours")
    date = forms.DateField(label=_("Date"), widget=DateInput)
    hours = forms.DecimalField(
        label=_("Hours (service only, no travel)"), min_value=0.25, max_value=24, decimal_places=2
    )
    description = forms.CharField(label=_("Service done"), max_length=200)
    reason = forms.CharField(label=_("Reason for a manual entry"), max_length=200)
    station = forms.ModelChoiceField(label=_("Recording station"), queryset=Station.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        station_choices(self.fields["station"], scoped_stations(user))
        self.fields["date"].initial = timezone.localdate()
        self._helper()


class CertificateForm(_Crispy, forms.Form):
    submit_label = _("Issue certificate")
    station = forms.ModelChoiceField(label=_("Recording station"), queryset=Station.objects.none())
    period_start = forms.DateField(label=_("From"), widget=DateInput)
    period_end = forms.DateField(label=_("To"), widget=DateInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        station_choices(self.fields["station"], scoped_stations(user))
        self._helper()


class ImportForm(_Crispy, forms.Form):
    submit_label = _("Upload and preview")
    file = forms.FileField(label=_("CSV or Excel (.xlsx) file"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if f.size > 20 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 20 MB; split it."))
        return f

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class ClaimForm(_Crispy, forms.Form):
    submit_label = _("Claim this post")
    skills = forms.CharField(label=_("What I can do"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class TeamMessageForm(_Crispy, forms.Form):
    """A message to every member of a team (services.team_message_send)."""

    submit_label = _("Send")
    text = forms.CharField(
        label=_("Message"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Members read it in their messages, and by SMS or email as each chose; members "
            "without a login get an SMS. An SMS carries about the first 120 characters."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()
