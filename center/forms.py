from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Area, ServiceItem, Station


def community_choices(field) -> None:
    """Communities by code, labelled with their street: the same picker everywhere."""
    field.queryset = (
        Area.objects.filter(level=Area.Level.COMMUNITY).select_related("parent").order_by("code")
    )
    field.label_from_instance = lambda a: f"{a.parent.name} · {a.name}"


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Mobile number or username"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class StationForm(forms.ModelForm):
    class Meta:
        model = Station
        fields = [
            "code",
            "name",
            "kind",
            "parent",
            "district",
            "communities",
            "address",
            "latitude",
            "longitude",
            "phone",
            "opening_hours",
            "is_active",
        ]
        widgets = {"communities": forms.SelectMultiple(attrs={"size": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Station.objects.order_by("code")
        self.fields["district"].queryset = Area.objects.filter(level=Area.Level.DISTRICT).order_by(
            "code"
        )
        community_choices(self.fields["communities"])
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))


class ServiceItemForm(forms.ModelForm):
    class Meta:
        model = ServiceItem
        fields = [
            "category",
            "code",
            "name",
            "description",
            "specialty",
            "market_price",
            "center_price",
            "free_for_special_groups",
            "typical_minutes",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))
