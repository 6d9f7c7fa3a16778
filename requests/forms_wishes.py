"""Forms of the micro-wish pages: input shape only; the rules are the
services' (``requests.services.wishes``), photos are checked by
``center.photos`` inside them."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from center.forms import DateInput, FastSelect
from volunteers.models import Organization

from .models import MicroWish

PHOTO_TYPES = "image/jpeg,image/png,image/webp"


class _Helper:
    submit_label = _("Save")

    def _helper(self):
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class WallFilterForm(forms.Form):
    """The wall's filters; the choices are the selector's lists (districts,
    the chosen district's communities as "街道 · 社区", or the one community
    a shared link names), so checking a value costs no query."""

    # Choosing a district reloads the wall with its communities to choose from.
    district = forms.TypedChoiceField(
        label=_("District"),
        required=False,
        coerce=int,
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    community = forms.TypedChoiceField(label=_("Community"), required=False, coerce=int)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", "---------"), *MicroWish.Kind.choices]
    )

    def __init__(self, data=None, *args, districts=(), communities=(), **kwargs):
        if data is not None and data.get("community"):
            # A community of another district (the district was just changed):
            # dropped, so the district and the kind still filter.
            if data.get("community") not in {str(pk) for pk, _label in communities}:
                data = data.copy()
                data.pop("community")
        super().__init__(data, *args, **kwargs)
        self.fields["district"].choices = [("", "---------")] + [(a.pk, a.name) for a in districts]
        self.fields["community"].choices = [("", "---------"), *communities]
        if not communities:
            del self.fields["community"]


class WishForm(_Helper, forms.Form):
    """A new wish (from a resident) or a draft corrected."""

    title = forms.CharField(label=_("What is wished"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=MicroWish.Kind.choices)
    description = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Shown on the public wish wall: write it for the public, without the "
            "family's name, address, phone or health facts."
        ),
    )
    estimated_cost = forms.DecimalField(
        label=_("Estimated cost (yuan)"), min_value=0, max_digits=8, decimal_places=2, initial=0
    )
    shares = forms.IntegerField(
        label=_("Shares"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=_("Several adopters may each take a share (a group adoption)."),
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    source = forms.ChoiceField(label=_("Collected by"), choices=MicroWish.Source.choices)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_TYPES}),
        help_text=_("JPEG, PNG or WebP. The location data of the photo is removed."),
    )
    photo_publishable = forms.BooleanField(
        label=_("The photo may be shown on the public wall (no face, or the family agreed)"),
        required=False,
    )

    def __init__(self, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["source"]
        self._helper()


class AdoptForm(forms.Form):
    """A volunteer adopts from the wall: how many shares, remote or not."""

    shares = forms.TypedChoiceField(label=_("Shares"), coerce=int, initial=1)
    is_remote = forms.BooleanField(
        label=_("I cannot go myself: I pledge, a volunteer near the family delivers"),
        required=False,
    )

    def __init__(self, *args, shares_left: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shares"].choices = [(n, n) for n in range(1, max(shares_left, 1) + 1)]


class OrganizationAdoptForm(_Helper, forms.Form):
    """Staff record an organization's adoption (the staff member acts for it)."""

    submit_label = _("Adopt for the organization")
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.order_by("name").only("name"),
        widget=FastSelect,
    )
    shares = forms.IntegerField(label=_("Shares"), min_value=1, max_value=100, initial=1)
    # As the estimated cost (numeric(8, 2)): one pledge stays far below the
    # wish's pledged total column, which the service guards as well.
    amount = forms.DecimalField(
        label=_("Pledged (yuan)"),
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
        help_text=_("Empty: the estimated cost's part for these shares."),
    )
    is_remote = forms.BooleanField(
        label=_("Remote adoption (a volunteer delivers)"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class FulfilForm(_Helper, forms.Form):
    submit_label = _("Record fulfilment")
    note = forms.CharField(
        label=_("What was given or done"), widget=forms.Textarea(attrs={"rows": 3})
    )
    spent = forms.DecimalField(
        label=_("Spent (yuan)"), required=False, min_value=0, max_digits=10, decimal_places=2
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_TYPES}),
        help_text=_("JPEG, PNG or WebP. The location data of the photo is removed."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class DelivererForm(forms.Form):
    """Staff name the volunteer who delivers a remote adoption. Nothing is
    chosen for them: several volunteers share a name, so each reads "name ·
    volunteer number · station", and the choice is required."""

    adoption = forms.TypedChoiceField(label=_("Remote adoption to deliver"), coerce=int)
    deliverer = forms.TypedChoiceField(label=_("Delivered by"), coerce=int, widget=FastSelect)

    def __init__(self, *args, adoptions=(), candidates=(), community_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(a.pk, adoption_label(a)) for a in adoptions]
        if len(choices) > 1:
            choices.insert(0, ("", CHOOSE))
        self.fields["adoption"].choices = choices
        self.fields["deliverer"].choices = [("", CHOOSE)] + [
            (v.pk, deliverer_label(v, community_id)) for v in candidates
        ]
        self.fields["deliverer"].widget.attrs["data-searchable"] = _(
            "Type a name or volunteer number"
        )


CHOOSE = _("— choose —")


def adoption_label(adoption) -> str:
    """ "李四 · V0001 · 1 share(s), pledged ¥100 · now: 王五": whose remote adoption."""
    if adoption.volunteer_id:
        who = f"{adoption.volunteer.name} · {adoption.volunteer.volunteer_no}"
    else:
        who = adoption.organization.name
    label = _("%(who)s · %(n)s share(s), pledged ¥%(amount)s") % {
        "who": who,
        "n": adoption.shares,
        "amount": adoption.amount,
    }
    if adoption.deliverer_id:
        label += " · " + _("now delivered by %(name)s") % {"name": adoption.deliverer.name}
    return label


def deliverer_label(volunteer, community_id=None) -> str:
    """ "刘坤 · V0001 · 南湖分站", and whether they live in the family's community."""
    label = f"{volunteer.name} · {volunteer.volunteer_no} · {volunteer.station.name}"
    if community_id is not None and volunteer.community_id == community_id:
        label += " · " + _("lives in the family's community")
    return label
