"""Back office of the reports app: the report files and the dashboards'
snapshots, read-only (files are asked for on /reports/exports/ and written by
the task; snapshots are refreshed by theirs). A file's row can be deleted
here (its file with it, as the retention purge does)."""

from django.contrib import admin

from center.admin_base import ReadOnlyAdmin

from .models import DashboardSnapshot, ReportExport


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    list_display = ("id", "start", "end", "format", "origin", "scope_label", "status", "progress")
    list_display_links = ("id", "start")
    list_filter = ("status", "origin", "format")
    list_select_related = ("requested_by",)
    readonly_fields = [f.name for f in ReportExport._meta.fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Unlike a log, a file may be deleted (with the delete permission).
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def delete_model(self, request, obj) -> None:
        from .services import delete_file

        delete_file(obj.file.name)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        from .services import delete_file

        for name in queryset.values_list("file", flat=True):
            delete_file(name)
        super().delete_queryset(request, queryset)


@admin.register(DashboardSnapshot)
class DashboardSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("key", "computed_at", "duration_ms")
    readonly_fields = ("key", "data", "computed_at", "duration_ms")
