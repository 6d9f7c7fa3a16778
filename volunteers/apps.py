from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    url_prefix = ""  # its urls.py is included by center/urls.py
    verbose_name = _("Volunteers and providers")

    def ready(self):
        from center import messages, registry, roles
        from center.registry import NavEntry

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .demo.seed import seed_volunteers
        from .messages import MESSAGES

        messages.register(MESSAGES)
        registry.register_demo("volunteers", seed_volunteers, after=["center"])
        registry.register_nav(
            NavEntry(
                _("Providers"),
                visible=roles.is_staff_role,
                order=30,
                children=(
                    NavEntry(_("Volunteers"), "volunteers:volunteer_list", order=1),
                    NavEntry(_("Merchants"), "volunteers:merchant_list", order=2),
                    NavEntry(_("Service teams"), "volunteers:team_list", order=3),
                    NavEntry(_("Posts"), "volunteers:post_list", order=4),
                    NavEntry(_("Complaints"), "volunteers:complaint_list", order=5),
                    NavEntry(
                        _("Hours to verify"), "volunteers:hours_pending", roles.is_manager, order=6
                    ),
                    NavEntry(
                        _("Organizations"),
                        "volunteers:organization_list",
                        roles.is_center_manager,
                        order=7,
                    ),
                ),
            )
        )
        registry.register_nav(NavEntry(_("Me"), "volunteers:me", roles.is_volunteer, order=41))
