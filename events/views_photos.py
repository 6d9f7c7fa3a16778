"""Photos of stalls and activities: streamed by a view that checks who may
see each one (never /media), added, published and removed by the managers
of the station. Thin: selectors read, ``events.services.photos`` writes."""

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from center import photos as center_photos
from center.models import Role
from center.roles import require_role
from center.viewmixins import service_errors_to_messages

from . import selectors
from .services import photos as photo_services

PUBLIC_PHOTO_CACHE = "public, max-age=300"
STAFF_PHOTO_CACHE = "private, no-store"
MANAGERS = (Role.STATION_MANAGER, Role.CENTER_MANAGER)


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_lazy("Photo"))
    caption = forms.CharField(label=_lazy("Caption"), max_length=200, required=False)
    publishable = forms.BooleanField(
        label=_lazy("May be shown publicly (everyone pictured agreed)"), required=False
    )


@require_GET
def photo(request, pk: int):
    photo = selectors.get_viewable_photo(user=request.user, pk=pk)
    cache = PUBLIC_PHOTO_CACHE if photo.publishable else STAFF_PHOTO_CACHE
    return center_photos.photo_response(photo.image, cache)


def _back(request):
    """Back to the page the form was on (``next``, same site only)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("center:home")


def _manager_or_refuse(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    require_role(request.user, *MANAGERS)
    return None


def _add(request, **subject):
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request)
    try:
        photo_services.photo_add(
            actor=request.user,
            upload=form.cleaned_data["photo"],
            caption=form.cleaned_data["caption"],
            publishable=form.cleaned_data["publishable"],
            **subject,
        )
        messages.success(request, _("The photo is added."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    return _back(request)


@require_POST
def stall_photo_add(request, pk: int):
    refused = _manager_or_refuse(request)
    if refused:
        return refused
    return _add(request, stall=selectors.get_managed_stall(user=request.user, pk=pk))


@require_POST
def activity_photo_add(request, pk: int):
    refused = _manager_or_refuse(request)
    if refused:
        return refused
    return _add(request, activity=selectors.get_managed_activity(user=request.user, pk=pk))


@require_POST
def photo_publish(request, pk: int):
    refused = _manager_or_refuse(request)
    if refused:
        return refused
    photo = selectors.get_managed_photo(user=request.user, pk=pk)
    publishable = request.POST.get("publishable") == "1"
    photo_services.photo_set_publishable(actor=request.user, photo=photo, publishable=publishable)
    if publishable:
        messages.success(request, _("The photo may now be shown publicly."))
    else:
        messages.success(request, _("The photo is no longer shown publicly."))
    return _back(request)


@require_POST
def photo_delete(request, pk: int):
    refused = _manager_or_refuse(request)
    if refused:
        return refused
    photo = selectors.get_managed_photo(user=request.user, pk=pk)
    photo_services.photo_delete(actor=request.user, photo=photo)
    messages.success(request, _("The photo is removed."))
    return _back(request)
