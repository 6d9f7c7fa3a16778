"""View helpers shared by every app's staff pages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic.edit import FormView

from .models import Role
from .roles import RoleRequiredMixin


def add_service_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: field errors on their fields
    (or the form's top when the form has no such field), others at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def service_errors_to_messages(request, exc: ValidationError) -> None:
    """A service's ValidationError as error messages on the next page (an
    action button posted from a list or detail page, with no form to hold it)."""
    for message in exc.messages:
        messages.error(request, message)


class ServiceFormView(RoleRequiredMixin, FormView):
    """A form whose save goes through a service function.

    Subclasses define ``title()`` and ``save(form)``; a service's
    ValidationError goes back into the form (field errors on their field),
    and nothing is written because the service's transaction rolled back.
    """

    allowed_roles = (Role.CENTER_MANAGER,)
    template_name = "center/form.html"
    instance = None
    pass_user = False

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if issubclass(self.get_form_class(), ModelForm):
            kwargs["instance"] = self.instance
        if self.pass_user:
            kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        try:
            obj = self.save(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        return self.success_response(obj)

    def success_response(self, obj):
        """A message and a redirect; a page that must show something exactly
        once (an activation code) renders it here instead."""
        messages.success(self.request, self.success_message())
        return redirect(self.success_url_for(obj))

    def success_message(self) -> str:
        return _("Saved.")

    def success_url_for(self, obj) -> str:
        return obj.get_absolute_url()

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": self.title(),
            "object": self.instance,
        }
