from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from center.forms import (
    DateInput,
    DateTimeInput,
    FastSelect,
    PhoneField,
    PhoneListField,
    ValuesChoices,
    community_choices,
    station_choices,
)
from center.models import ServiceItem, Station
from center.roles import scope_by_station
from center.validators import nfkc
from volunteers.models import Provider, Volunteer

from .models import (
    Channel,
    ConsentScope,
    DisabilityCategory,
    DisabilityLevel,
    FollowUp,
    Resident,
    ResidentConsent,
    ResidentContact,
    ServiceRequest,
    SpecialGroup,
    Urgency,
)

# A person's name: 姓名, where the model field's verbose name reads 名称.
PERSON_NAME = _("Full name")


class _Helper:
    submit_label = _("Save")

    def _helper(self):
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class IntakeKeyMixin(forms.Form):
    """A key generated when the form is shown: the same form posted twice (a
    double click, a retry, two tabs) is recognised by the service and creates
    one row, not two (``requests.services`` ``intake_key``)."""

    intake_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            import uuid

            self.initial.setdefault("intake_key", uuid.uuid4())


class ResidentForm(_Helper, IntakeKeyMixin, forms.ModelForm):
    submit_label = _("Register and start an order")
    phone = PhoneField(label=_("Phone"))
    other_phones = PhoneListField(
        label=_("Other phones"), required=False, help_text=_("Separated by commas.")
    )
    # Set when the page warned that the number is already registered and the
    # operator chose to register a new resident anyway.
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Resident
        fields = ["name", "phone", "other_phones", "address", "community", "is_free", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"name": PERSON_NAME}  # a person's name (姓名), not the field's 名称

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        community_choices(self.fields["community"])
        self._helper()

    def phones(self) -> list[str]:
        return [self.cleaned_data["phone"], *self.cleaned_data.get("other_phones", [])]


class ItemChoiceField(forms.ModelChoiceField):
    """The catalogue as one ``<select>`` (searchable on the page), labelled
    ``category · item（¥price）`` from plain values (center.forms.ValuesChoices)."""

    widget = FastSelect
    iterator = ValuesChoices
    label_values = ("category__name", "name", "center_price")

    @staticmethod
    def label_of(category, name, price) -> str:
        return f"{category} · {name}（¥{price}）"


class OrderForm(_Helper, IntakeKeyMixin, forms.ModelForm):
    submit_label = _("Create order")
    caller_phone = PhoneField(label=_("caller number"), required=False)
    item = ItemChoiceField(
        label=_("Service item"),
        queryset=ServiceItem.objects.filter(is_active=True).order_by(
            "category__sort_order", "code"
        ),
    )
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = ServiceRequest
        fields = [
            "item",
            "kind",
            "channel",
            "urgency",
            "caller_phone",
            "description",
            "address",
            "community",
            "station",
            "preferred_time",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "preferred_time": DateTimeInput,
        }
        labels = {"description": _("What the caller needs")}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].widget.attrs["data-searchable"] = _("Type to search the catalogue")
        self.fields["channel"].initial = Channel.HOTLINE
        self.fields["urgency"].initial = Urgency.NORMAL
        self.fields["address"].required = False
        self.fields["station"].required = False
        self.fields["station"].help_text = _("Empty: the station serving the community.")
        # A station manager routes orders only to their own stations.
        station_choices(
            self.fields["station"],
            scope_by_station(Station.objects.filter(is_active=True).order_by("code"), user, "pk"),
        )
        community_choices(self.fields["community"])
        self._helper()


class AssignForm(_Helper, forms.Form):
    submit_label = _("Assign")
    volunteer_no = forms.CharField(label=_("Volunteer number"), required=False, max_length=20)
    other_station = forms.BooleanField(
        label=_("The provider belongs to another station (I have agreed it with them)"),
        required=False,
    )
    merchant = forms.ModelChoiceField(
        label=_("or merchant"), queryset=Provider.objects.none(), required=False
    )
    team = forms.ModelChoiceField(
        label=_("or team"), queryset=Provider.objects.none(), required=False
    )

    def __init__(self, *args, merchants=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The choices are the ranked candidates (Provider rows) the page shows.
        self.fields["merchant"].queryset = Provider.objects.filter(
            pk__in=[c.provider.pk for c in merchants]
        )
        self.fields["team"].queryset = Provider.objects.filter(
            pk__in=[c.provider.pk for c in teams]
        )
        # Drawn from the rows already ranked (no second query per list); a
        # posted choice is still checked against the queryset.
        for name, ranked in (("merchant", merchants), ("team", teams)):
            field = self.fields[name]
            field.choices = [("", field.empty_label)] + [
                (c.provider.pk, field.label_from_instance(c.provider)) for c in ranked
            ]
        self._helper()

    def clean(self):
        data = super().clean()
        number = nfkc(data.get("volunteer_no")).upper()
        volunteer = None
        if number:
            volunteer = Provider.objects.filter(volunteer__volunteer_no=number).first()
            if volunteer is None:
                raise forms.ValidationError(_("No volunteer has the number %(n)s.") % {"n": number})
        chosen = [p for p in (volunteer, data.get("merchant"), data.get("team")) if p]
        if len(chosen) != 1:
            raise forms.ValidationError(_("Choose exactly one provider."))
        data["provider"] = chosen[0]
        return data


class ReasonForm(_Helper, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if submit_label:
            self.submit_label = submit_label
        self._helper()


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class CompleteForm(_Helper, forms.Form):
    submit_label = _("Done")
    notes = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    fee = forms.DecimalField(
        label=_("Fee charged (yuan)"), min_value=0, max_digits=8, decimal_places=2
    )
    fee_reason = forms.CharField(
        label=_("Reason if above the quote"), required=False, max_length=200
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Team members who went (their hours are credited)"),
        queryset=Volunteer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        if team is None:
            del self.fields["members"]
        else:
            self.fields["members"].queryset = team.members.order_by("name")
            self.fields["members"].required = True
        self._helper()


class FollowUpForm(_Helper, forms.Form):
    submit_label = _("Record follow-up")
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), choices=FollowUp.Satisfaction.choices, widget=forms.RadioSelect
    )
    score = forms.TypedChoiceField(
        label=_("Score"), choices=[(i, i) for i in range(5, 0, -1)], coerce=int
    )
    words = forms.CharField(
        label=_("The resident's words"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reopen = forms.BooleanField(label=_("Reopen the order (重办)"), required=False)
    complain = forms.BooleanField(label=_("Open a complaint against the provider"), required=False)

    def __init__(self, *args, complaint_possible: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not complaint_possible:
            # A team's order: a complaint names a volunteer or merchant, from their page.
            del self.fields["complain"]
        self._helper()


# --- The special-group registry (issue 11) ---------------------------------------------


class ResidentEditForm(_Helper, forms.ModelForm):
    """A resident's details; phones stay as registered (the console adds
    numbers), contacts and groups have their own forms."""

    class Meta:
        model = Resident
        fields = ["name", "address", "community", "is_free", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"name": PERSON_NAME}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        community_choices(self.fields["community"])
        self._helper()


class GroupForm(_Helper, forms.Form):
    """A membership: the group (when adding) and the facts checked."""

    group = forms.ModelChoiceField(label=_("Special group"), queryset=None)
    disability_category = forms.ChoiceField(
        label=_("Disability category"),
        choices=[("", "—"), *DisabilityCategory.choices],
        required=False,
        help_text=_("As on the disability certificate; needs the resident's consent."),
    )
    disability_level = forms.TypedChoiceField(
        label=_("Disability level"),
        choices=[("", "—"), *DisabilityLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    verified_on = forms.DateField(label=_("Verified on"), required=False, widget=DateInput)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, adding: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if adding:
            self.fields["group"].queryset = SpecialGroup.objects.filter(is_active=True)
        else:
            del self.fields["group"]
        self._helper()


class ContactForm(_Helper, forms.Form):
    """An emergency contact. Editing, the stored number is never sent: the
    input is empty, the help text shows it masked, empty keeps it."""

    name = forms.CharField(label=PERSON_NAME, max_length=64)
    relation = forms.CharField(label=_("Relation"), max_length=32)
    phone = PhoneField(label=_("Phone"))
    kind = forms.ChoiceField(label=_("Kind"), choices=ResidentContact.Kind.choices)
    priority = forms.IntegerField(
        label=_("Call order"),
        min_value=1,
        max_value=99,
        initial=1,
        help_text=_("1 is called first."),
    )

    def __init__(self, *args, masked_phone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if masked_phone:
            self.fields["phone"].required = False
            self.fields["phone"].help_text = _("Now %(masked)s; leave empty to keep it.") % {
                "masked": masked_phone
            }
        self._helper()


class ConsentForm(_Helper, forms.Form):
    submit_label = _("Record the consent")
    scope = forms.MultipleChoiceField(
        label=_("The consent covers"),
        choices=ConsentScope.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    method = forms.ChoiceField(label=_("How it was given"), choices=ResidentConsent.Method.choices)
    given_on = forms.DateField(label=_("Given on"), widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class SensitiveForm(_Helper, forms.Form):
    """The ID number is never sent back (empty keeps it, ``clear`` removes
    it); the health notes are shown to edit them (the opening is logged)."""

    id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    clear_id_number = forms.BooleanField(label=_("Remove the ID number"), required=False)
    health_notes = forms.CharField(
        label=_("Health notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, masked_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if masked_id:
            self.fields["id_number"].help_text = _("Now %(masked)s; leave empty to keep it.") % {
                "masked": masked_id
            }
        else:
            del self.fields["clear_id_number"]
        self._helper()


class ResidentImportForm(_Helper, forms.Form):
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
