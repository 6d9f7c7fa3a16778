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
        from .demo import registry as registry_demo

        registry.register_demo("registry", registry_demo.seed, after=["requests"])
        for order, label, url_name in (
            (20, _("Console"), "requests:console"),
            (21, _("Orders"), "requests:order_list"),
            (22, _("Follow-ups"), "requests:followup_queue"),
            (23, _("Residents"), "requests:resident_list"),
        ):
            registry.register_nav(NavEntry(label, url_name, roles.is_staff_role, order=order))
        registry.register_nav(
            NavEntry(_("My orders"), "requests:my_orders", roles.is_provider, order=40)
        )
        # Micro-wishes (issue 11): staff pages, a volunteer's own, the public wall for everyone.
        from .demo import wishes as wishes_demo

        registry.register_demo("wishes", wishes_demo.seed, after=["requests"])
        registry.register_nav(
            NavEntry(_("Micro-wishes"), "requests:wish_list", roles.is_staff_role, order=25)
        )
        registry.register_nav(
            NavEntry(_("My wishes"), "requests:my_wishes", roles.is_volunteer, order=42)
        )
        # The public wall: for visitors (the login page) and every role; a
        # login without a role sees no menu at all.
        registry.register_nav(
            NavEntry(
                _("Wish wall"),
                "requests:wish_wall",
                lambda u: not u.is_authenticated or bool(u.role) or u.is_center_manager,
                order=90,
            )
        )
        # Pairing and care visits (issue 11): the staff care lists, a member's residents.
        from .demo import care as care_demo

        registry.register_demo("care", care_demo.seed, after=["registry"])
        registry.register_nav(
            NavEntry(_("Care"), "requests:care_overview", roles.is_staff_role, order=24)
        )
        registry.register_nav(
            NavEntry(_("My residents"), "requests:my_care", roles.is_volunteer, order=41)
        )
        # The call log and unmatched requests (issue 14, part A); its demo day is
        # part of the "requests" demo part (demo/seed.py → demo/calls.py).
        registry.register_nav(
            NavEntry(_("Call log"), "requests:call_list", roles.is_staff_role, order=26)
        )
        registry.register_home_card(
            HomeCard("requests/_home_hotline.html", roles.is_staff_role, order=10)
        )
        registry.register_home_card(
            HomeCard("requests/_home_my_orders.html", roles.is_provider, order=10)
        )
