"""The dashboards' and reports' pages (issue 14), on ``reports.selectors``."""

from django.urls import path  # noqa: F401

app_name = "reports"

urlpatterns: list = []
# urls: weathervane (part B)
# urls: dashboards (part C)
# urls: monthly report and exports (part D)
