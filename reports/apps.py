from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    url_prefix = ""  # its urls.py is included by center/urls.py
    verbose_name = _("Dashboards and reports")

    def ready(self):
        pass
        # nav: weathervane (part B)
        # nav: dashboards (part C)
        # nav: reports (part D)
