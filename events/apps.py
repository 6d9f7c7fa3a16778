from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    url_prefix = ""  # its urls.py is included by center/urls.py
    verbose_name = _("Service days and events")

    def ready(self):
        from center import messages

        from .messages import MESSAGES

        messages.register(MESSAGES)
        from center import registry as nav_registry
        from center import roles
        from center.registry import NavEntry

        # The volunteer's side: the stalls near them, sign up, my shifts.
        nav_registry.register_nav(
            NavEntry(_("Service days"), "events:upcoming", roles.is_volunteer, order=43)
        )
        # nav: staff service days (part A)
        # nav: volunteer activities (part C)
        # nav: staff activities (part C)
        # nav: record (part D)
        from center import registry

        from .demo.seed import seed

        registry.register_demo("events", seed, after=["volunteers"])
