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
        nav_registry.register_nav(
            NavEntry(_("Service days"), "events:day_list", roles.is_staff_role, order=26)
        )
        # nav: volunteer activities (part C)
        nav_registry.register_nav(
            NavEntry(_("My activities"), "events:my_activities", roles.is_volunteer, order=44)
        )
        # nav: staff activities (part C)
        nav_registry.register_nav(
            NavEntry(_("Activities"), "events:activity_list", roles.is_staff_role, order=27)
        )
        # nav: record (part D)
        # The public record: figures the center reports publicly, for visitors
        # and every role alike (like the wish wall; a login without a role
        # sees no menu at all).
        nav_registry.register_nav(
            NavEntry(
                _("Activity record"),
                "events:record",
                lambda u: not u.is_authenticated or bool(u.role) or u.is_center_manager,
                order=91,
            )
        )
        from center import registry

        from .demo.activities import seed_activities
        from .demo.record import seed_highlights
        from .demo.seed import seed

        registry.register_demo("events", seed, after=["volunteers"])
        # Other activities, then the record's highlights (chosen among both).
        registry.register_demo("events_activities", seed_activities, after=["events"])
        registry.register_demo(
            "events_record", seed_highlights, after=["events", "events_activities"]
        )
