from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("Volunteers and providers")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the signal receivers)
