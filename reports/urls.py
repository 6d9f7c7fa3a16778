"""The dashboards' and reports' pages (none yet: issue 14 builds them on
``reports.selectors``)."""

app_name = "reports"

urlpatterns: list = []
