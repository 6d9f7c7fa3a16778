"""Template helpers shared by every app's pages."""

from django import forms, template
from django.utils.html import format_html, format_html_join

from center.forms import FastSelect

register = template.Library()


@register.filter
def filter_field(bound_field) -> str:
    """One field of a list page's filter form: Bootstrap's label, control and
    error, drawn directly. crispy's per-field templates cost ~0.7 ms a field,
    a tenth of a list page's budget for a row of filters; forms that people
    fill in keep crispy."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    if isinstance(widget, forms.Select) and not isinstance(widget, forms.SelectMultiple):
        # Any choice list (status, yes/no…) drawn in one pass, like FastSelect.
        control = FastSelect.render(
            widget,
            bound_field.html_name,
            bound_field.value(),
            attrs={"class": css, "id": bound_field.auto_id},
        )
    else:
        control = bound_field.as_widget(attrs={"class": css})
    return format_html(
        '<div id="div_{}" class="mb-1"><label for="{}" class="form-label">{}</label>{}{}</div>',
        bound_field.auto_id,
        bound_field.id_for_label,
        bound_field.label,
        control,
        format_html_join(
            "", '<div class="invalid-feedback">{}</div>', ((e,) for e in bound_field.errors)
        ),
    )
