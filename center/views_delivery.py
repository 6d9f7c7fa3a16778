"""The delivery log for staff and each person's message settings (issue 13).

The log reads through ``center.selectors_delivery`` (who sees what, in one
place); a resend goes through ``center.delivery.delivery_resend``; settings
through ``services.user_notification_settings_update``.
"""

import datetime

import django_filters
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from . import delivery, services
from . import messages as message_keys
from . import selectors_delivery as selectors
from .forms import DateInput, NotificationSettingsForm
from .masking import mask_mobile
from .models import Delivery, Role, User
from .pagination import KeysetPaginationMixin
from .roles import RoleRequiredMixin, has_role
from .validators import normalize_mobile
from .viewmixins import add_service_errors, service_errors_to_messages


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _message_choices():
    return [(key, key) for key in sorted(message_keys.MESSAGES)]


class DeliveryFilter(django_filters.FilterSet):
    """Each filter narrows an index range or is cheap beside one: status
    (delivery_status), dates (delivery_log), a recipient with a login
    (delivery_recipient). Channel halves the rows walked at most. A message
    key and an address without a login have no index of their own: see
    docs/notifications.md ("The delivery log")."""

    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"), choices=Delivery.Status.choices
    )
    channel = django_filters.ChoiceFilter(
        label=gettext_lazy("Channel"), choices=Delivery.Channel.choices
    )
    message = django_filters.ChoiceFilter(label=gettext_lazy("Message"), choices=_message_choices)
    created_from = django_filters.DateFilter(
        label=gettext_lazy("From"), method="filter_from", widget=DateInput
    )
    created_to = django_filters.DateFilter(
        label=gettext_lazy("To"), method="filter_to", widget=DateInput
    )
    recipient = django_filters.CharFilter(
        label=gettext_lazy("Mobile or email (exact)"), method="filter_recipient"
    )

    class Meta:
        model = Delivery
        fields = ["status", "channel", "message"]

    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + datetime.timedelta(days=1)))

    def filter_recipient(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if "@" in value:
            return queryset.filter(address=value)
        mobile = normalize_mobile(value)
        # A person with a login: every channel of theirs, on delivery_recipient.
        user_id = User.objects.filter(mobile=mobile).values_list("pk", flat=True).first()
        if user_id is not None:
            return queryset.filter(recipient_id=user_id)
        return queryset.filter(address=mobile)


class DeliveryListView(RoleRequiredMixin, KeysetPaginationMixin, FilterView):
    """Newest first, paged by keyset (center.pagination): a page costs the
    same on tens of millions of deliveries as on a thousand."""

    allowed_roles = (Role.STATION_MANAGER, Role.CENTER_MANAGER)
    filterset_class = DeliveryFilter
    template_name = "center/deliveries.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.delivery_list(user=self.request.user)

    def keyset_partition(self):
        # A station manager sees a few managers' deliveries: each one's newest
        # are sought on delivery_recipient and merged.
        recipients = selectors.delivery_recipient_ids(self.request.user)
        if recipients is selectors.ALL_RECIPIENTS or self.request.GET.get("recipient"):
            return None
        return ("recipient_id", recipients)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["object_list"] = selectors.with_display(ctx["object_list"])
        failed = selectors.failed_recently(user=user)
        ctx["failed_total"] = sum(failed.values())
        ctx["failed_by_channel"] = [
            (str(label), failed.get(value, 0)) for value, label in Delivery.Channel.choices
        ]
        ctx["can_resend"] = selectors.can_resend(user)
        ctx["now"] = timezone.now()  # a pending row due later is held (quiet hours, a backoff)
        return ctx


@require_POST
@login_required
def delivery_resend(request, pk: int):
    """Send a failed (or cancelled) delivery again: center managers only."""
    if not selectors.can_resend(request.user):
        raise PermissionDenied
    row = selectors.get_delivery_for_user(user=request.user, pk=pk)
    try:
        delivery.delivery_resend(actor=request.user, delivery=row)
        messages.success(request, _("The message will be sent again."))
    except ValidationError as exc:
        service_errors_to_messages(request, exc)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("center:delivery_list")
    return redirect(back)


# Anyone the portal sends messages to: every role (an outsider without one
# gets no messages and no page).
MESSAGE_ROLES = tuple(Role.values)


@login_required
def notification_settings(request):
    """How messages reach the person logged in: language, SMS, email."""
    user = request.user
    if not has_role(user, *MESSAGE_ROLES):
        raise PermissionDenied
    form = NotificationSettingsForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_notification_settings_update(
                actor=user, user=user, data=form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your message settings are saved."))
            return redirect("center:notification_settings")
    start, _sep, end = settings.LIANXIN["QUIET_HOURS"].partition("-")
    return render(
        request,
        "center/notification_settings.html",
        {
            "form": form,
            "mobile": mask_mobile(user.mobile),
            "quiet_start": start.strip(),
            "quiet_end": end.strip(),
        },
    )
