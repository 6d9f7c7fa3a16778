from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Service days and events")

    def ready(self):
        from center import messages

        from .messages import MESSAGES

        messages.register(MESSAGES)
