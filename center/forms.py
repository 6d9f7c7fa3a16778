import time

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.forms.utils import flatatt
from django.utils.functional import lazy
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .models import Area, ServiceItem, Station, User
from .validators import (
    normalize_id_number,
    normalize_phone,
    validate_id_number,
    validate_mobile,
    validate_phone,
)


class IdNumberField(forms.CharField):
    """A mainland ID number as typed (full-width digits, spaces, lower-case x):
    stored normalised so that uniqueness holds, checked by GB 11643."""

    default_validators = [validate_id_number]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_id_number(value) if value else value


def keep_on_file(form, field: str, masked: str) -> None:
    """An edit form never sends a stored personal number to the browser: the
    input starts empty, the help text shows the masked value, empty keeps it
    (the form's ``clean_<field>`` returns the stored value)."""
    form.initial[field] = ""
    form.fields[field].required = False
    form.fields[field].help_text = _("On file: %(masked)s. Leave empty to keep it.") % {
        "masked": masked
    }


class PhoneField(forms.CharField):
    """A phone number as people type it (spaces, dashes, +86, full-width digits):
    stored normalised, checked as a mainland mobile or a landline with its area
    code; ``mobile_only`` for people who log in with it (volunteers, merchants)."""

    def __init__(self, *, mobile_only: bool = False, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)
        self.mobile_only = mobile_only
        self.widget.attrs.setdefault("inputmode", "tel")
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_phone(value) if value else value

    def validate(self, value):
        super().validate(value)
        if value:
            (validate_mobile if self.mobile_only else validate_phone)(value)


class PhoneListField(forms.CharField):
    """Several numbers separated by commas (，、; too); each one a ``PhoneField`` number."""

    max_numbers = 5

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value) or ""
        for sep in "，、;；":
            value = value.replace(sep, ",")
        return [normalize_phone(p) for p in value.split(",") if p.strip()]

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > self.max_numbers:
            raise forms.ValidationError(
                _("At most %(n)s numbers.") % {"n": self.max_numbers}, code="too_many"
            )
        for number in value:
            try:
                validate_phone(number)
            except forms.ValidationError:
                raise forms.ValidationError(
                    _("%(number)s is not a phone number.") % {"number": number[:20]},
                    code="invalid_phone",
                ) from None

    def run_validators(self, value):
        # max_length applies to what was typed (checked in clean), not to the list.
        return None

    def clean(self, value):
        if value and len(str(value)) > self.max_length:
            raise forms.ValidationError(
                _("Keep this under %(n)s characters.") % {"n": self.max_length}, code="max_length"
            )
        return super().clean(value)


class ValuesChoices(forms.models.ModelChoiceIterator):
    """Choices from one ``values_list`` query, labelled by ``field.label_of``
    (a function of those values): a list of a thousand communities or
    stations costs no model instances, the way ``label_from_instance`` would."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.queryset.values_list("pk", *self.field.label_values):
            yield (row[0], self.field.label_of(*row[1:]))


def fast_choices(field, queryset, values: tuple[str, ...], label) -> None:
    """Make ``field`` (a ModelChoiceField) list ``queryset`` by ``values``
    labelled with ``label(*values)``, drawn by ``FastSelect``."""
    widget = FastSelectMultiple if isinstance(field.widget, forms.SelectMultiple) else FastSelect
    field.widget = widget(attrs=field.widget.attrs)
    field.iterator = ValuesChoices
    field.label_values, field.label_of = values, label
    field.queryset = queryset  # sets the widget's choices


def community_choices(field) -> None:
    """Communities by code, labelled with their street: the same picker everywhere."""
    fast_choices(
        field,
        Area.objects.filter(level=Area.Level.COMMUNITY).order_by("code"),
        ("parent__name", "name"),
        lambda street, name: f"{street} · {name}",
    )


def station_choices(field, queryset) -> None:
    """Stations labelled with where they are (several share a name, e.g.
    花园社区服务站点): ``Station.display_name``'s rule on plain values."""
    fast_choices(
        field,
        queryset,
        ("name", "district__name", "parent__kind", "parent__name"),
        lambda name, *place: f"{name}（{Station.format_place(*place)}）",
    )


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses an id no key column can hold before it reaches the database
    (SQLite raises OverflowError on it: a 500 where a form error is due)."""

    def _check_values(self, value):
        for pk in value:
            digits = str(pk).strip().lstrip("+-")
            if digits.isdigit() and int(digits) >= 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


# Rendered option lists of model choices, by their query: the same 1,153
# stations for every operator. Kept OPTIONS_TTL seconds in this process and
# dropped when a row of a table they read is saved or deleted here
# (``forget_options``, connected in center.apps); another process, or a bulk
# update, shows the change within the minute. What a form accepts is always
# checked against the database by the field itself.
OPTIONS_TTL = 60
_options_cache: dict[str, tuple[float, str]] = {}


def forget_options(sender, **kwargs) -> None:
    """Signal receiver: drop the kept option lists that read ``sender``'s table."""
    if _options_cache:
        table = f'"{sender._meta.db_table}"'
        for key in [k for k in _options_cache if table in k]:
            _options_cache.pop(key, None)


def _option(value, label) -> str:
    key = "" if value is None else str(value)
    return f'<option value="{escape(key)}">{escape(str(label))}</option>'


class FastSelect(forms.Select):
    """A ``<select>`` drawn in one pass instead of one template per
    ``<option>``: the station filter has 1,153 options, which Django's
    per-option templates (through crispy) took ~100 ms to draw on every list
    page view. Same markup, same attributes, escaped the same way; the option
    list of a model field is kept a minute (``OPTIONS_TTL``)."""

    def _options(self) -> str:
        choices = self.choices
        key = None
        if isinstance(choices, forms.models.ModelChoiceIterator):
            key = f"{type(choices).__name__}|{choices.field.empty_label}|{choices.queryset.query}"
            hit = _options_cache.get(key)
            if hit and hit[0] > time.monotonic():
                return hit[1]
        parts = []
        for value, label in choices:
            if isinstance(label, list | tuple):  # an <optgroup> of (value, label)
                parts.append(f'<optgroup label="{escape(str(value))}">')
                parts.extend(_option(v, sub) for v, sub in label)
                parts.append("</optgroup>")
            else:
                parts.append(_option(value, label))
        html = "".join(parts)
        if key:
            if len(_options_cache) > 256:
                _options_cache.clear()
            _options_cache[key] = (time.monotonic() + OPTIONS_TTL, html)
        return html

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        options = FastSelect._options(self)  # also for a plain Select (filter_field)
        chosen_values = self.format_value(value)
        if isinstance(chosen_values, str):  # NullBooleanSelect formats one string
            chosen_values = [chosen_values]
        for chosen in {str(v) for v in chosen_values}:
            tag = f'<option value="{escape(chosen)}">'
            options = options.replace(tag, tag[:-1] + " selected>", 1)
        # Every value and label was escaped when the options were drawn.
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(final_attrs), mark_safe(options)
        )


class FastSelectMultiple(FastSelect, forms.SelectMultiple):
    """``FastSelect`` for a many-choice field (``multiple``, a list of values)."""


class StationChoiceField(forms.ModelChoiceField):
    """A station picker whose choices read ``name（district · branch）``; for
    forms and filters that build the field themselves (django-filter)."""

    widget = FastSelect
    iterator = ValuesChoices
    label_values = ("name", "district__name", "parent__kind", "parent__name")

    @staticmethod
    def label_of(name, *place) -> str:
        return f"{name}（{Station.format_place(*place)}）"

    def label_from_instance(self, obj):
        return obj.display_name


class DateInput(forms.DateInput):
    """``<input type=date>``: the browser reads only ISO values (2026-11-27),
    whatever the page's language; the localized value (2026/11/27 in zh-hans)
    would leave the field empty and the form impossible to submit."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """``<input type=datetime-local>``: ISO value (2026-11-27T14:30), as DateInput."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Mobile number or username"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class ActivationForm(forms.Form):
    """A provider sets their password with the code staff gave them (center.accounts)."""

    mobile = PhoneField(
        label=_("Mobile number"),
        mobile_only=True,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    code = forms.CharField(
        label=_("Activation code"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=lazy(password_validation.password_validators_help_text_html, str)(),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords are not the same."))
        return cleaned


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
        field_classes = {"communities": BoundedModelMultipleChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        station_choices(self.fields["parent"], Station.objects.order_by("code"))
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


class NotificationSettingsForm(forms.ModelForm):
    """How messages reach the person logged in (issue 13): saved by
    ``services.user_notification_settings_update``, never by ``save()``."""

    class Meta:
        model = User
        fields = ["language", "notify_sms", "email", "notify_email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.instance
        # Each language in its own words (English, 简体中文): a reader who
        # cannot read the page's language still finds theirs.
        from django.utils.translation import get_language_info

        self.fields["language"].choices = [
            (code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES
        ]
        self.fields["email"].help_text = _("Tick “messages by email” too, to receive them.")
        # On by default, but only an address makes it true.
        self.initial["notify_email"] = user.notify_email and bool(user.email)
        if not user.mobile:
            self.fields["notify_sms"].help_text = _(
                "Your login has no mobile number: SMS cannot reach you."
            )
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))
