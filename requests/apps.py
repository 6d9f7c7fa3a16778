from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    # This app shadows PyPI `requests` on purpose; that package is never installed.
    name = "requests"
    url_prefix = ""  # its urls.py is included by center/urls.py
    verbose_name = _("Hotline requests")

    def ready(self):
        from center import messages, registry, roles
        from center.registry import HomeCard, NavEntry

        from .demo.seed import seed_demo
        from .messages import MESSAGES

        messages.register(MESSAGES)
        registry.register_demo("requests", seed_demo, after=["center", "volunteers"])
        for order, label, url_name in (
            (20, _("Console"), "requests:console"),
            (21, _("Orders"), "requests:order_list"),
            (22, _("Follow-ups"), "requests:followup_queue"),
        ):
            registry.register_nav(NavEntry(label, url_name, roles.is_staff_role, order=order))
        registry.register_nav(
            NavEntry(_("My orders"), "requests:my_orders", roles.is_provider, order=40)
        )
        registry.register_home_card(
            HomeCard("requests/_home_hotline.html", roles.is_staff_role, order=10)
        )
        registry.register_home_card(
            HomeCard("requests/_home_my_orders.html", roles.is_provider, order=10)
        )
