from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    # This app shadows PyPI `requests` on purpose; that package is never installed.
    name = "requests"
    verbose_name = _("Hotline requests")
