from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    url_prefix = ""  # its urls.py is included by center/urls.py
    verbose_name = _("Dashboards and reports")

    def ready(self):
        from center import registry, roles

        # Dashboards: every staff role (center managers also the city by branch).
        registry.register_nav(
            registry.NavEntry(
                _("Dashboards"),
                visible=roles.is_staff_role,
                order=15,
                children=(
                    registry.NavEntry(_("Today"), "reports:dashboard", roles.is_staff_role),
                    registry.NavEntry(
                        _("City by branch"), "reports:center_dashboard", roles.is_center_manager
                    ),
                    # The weathervane: staff (operators study what callers ask for too).
                    registry.NavEntry(_("Weathervane"), "reports:weathervane", roles.is_staff_role),
                ),
            )
        )
        registry.register_home_card(
            registry.HomeCard("reports/_dashboard_home.html", roles.is_staff_role, order=5)
        )
        # The monthly report and its files: managers (station: their stations;
        # center: the city). Operators have the dashboards, not the reports.
        registry.register_nav(
            registry.NavEntry(
                _("Reports"),
                visible=roles.is_manager,
                order=16,
                children=(
                    registry.NavEntry(_("Monthly report"), "reports:monthly", roles.is_manager),
                    registry.NavEntry(_("Report files"), "reports:export_list", roles.is_manager),
                ),
            )
        )
