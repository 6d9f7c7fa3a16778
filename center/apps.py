from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CenterConfig(AppConfig):
    name = "center"
    verbose_name = _("Service center")

    def ready(self):
        # Center's own parts go through the same registries as every app's
        # (center.registry): one way to add a menu entry, a card, demo data.
        from django.db.models.signals import post_delete, post_save

        from . import messages, registry, roles
        from .demo.seed import seed_center
        from .forms import forget_options

        # A saved station, community or item shows at once in the pickers.
        post_save.connect(forget_options, dispatch_uid="center.forget_options_save")
        post_delete.connect(forget_options, dispatch_uid="center.forget_options_delete")

        messages.register(messages.CENTER_MESSAGES)
        registry.register_demo("center", seed_center)
        registry.register_nav(
            registry.NavEntry(_("Stations"), "center:station_list", roles.is_staff_role, order=10)
        )
        registry.register_nav(
            registry.NavEntry(
                _("Service catalogue"),
                "center:catalogue",
                roles.is_catalogue_reader,
                order=80,
            )
        )
        registry.register_nav(
            registry.NavEntry(
                _("Delivery log"), "center:delivery_list", roles.is_center_manager, order=85
            )
        )
        registry.register_nav(
            registry.NavEntry(_("Back office"), "admin:index", lambda u: u.is_staff, order=90)
        )
        registry.register_home_card(
            registry.HomeCard("center/_home_stations.html", roles.is_staff_role, order=50)
        )
        registry.register_home_card(
            registry.HomeCard("center/_home_catalogue.html", roles.is_catalogue_reader, order=90)
        )
