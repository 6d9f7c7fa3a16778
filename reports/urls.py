"""The dashboards' and reports' pages (issue 14), on ``reports.selectors``."""

from django.urls import path  # noqa: F401

app_name = "reports"

urlpatterns: list = []
# urls: weathervane (part B)
from reports import views_weathervane  # noqa: E402

urlpatterns += [
    path("weathervane/", views_weathervane.WeathervaneView.as_view(), name="weathervane"),
]
# urls: dashboards (part C)
from . import views_dashboard  # noqa: E402

urlpatterns += [
    path("dashboard/", views_dashboard.DashboardView.as_view(), name="dashboard"),
    path(
        "dashboard/figures/",
        views_dashboard.DashboardView.as_view(fragment=True),
        name="dashboard_figures",
    ),
    path(
        "dashboard/center/", views_dashboard.CenterDashboardView.as_view(), name="center_dashboard"
    ),
    path(
        "dashboard/center/figures/",
        views_dashboard.CenterDashboardView.as_view(fragment=True),
        name="center_dashboard_figures",
    ),
]
# urls: monthly report and exports (part D)
from . import views_report  # noqa: E402

urlpatterns += [
    path("reports/monthly/", views_report.MonthlyReportView.as_view(), name="monthly"),
    path("reports/exports/", views_report.ExportListView.as_view(), name="export_list"),
    path("reports/exports/new/", views_report.export_create, name="export_create"),
    path(
        "reports/exports/<int:pk>/", views_report.ExportDetailView.as_view(), name="export_detail"
    ),
    path(
        "reports/exports/<int:pk>/progress/",
        views_report.ExportDetailView.as_view(fragment=True),
        name="export_progress",
    ),
    path(
        "reports/exports/<int:pk>/download/", views_report.export_download, name="export_download"
    ),
]
