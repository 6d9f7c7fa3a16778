"""The monthly report's pages (issue 14): the print-friendly report
(``/reports/monthly/``), the report files (``/reports/exports/``), one file's
progress (polled by htmx every second while it is written) and its download.

Who: managers. A center manager reports on the city, any station or branch;
a station manager on their stations only; operators, volunteers and anyone
else get 403 (operators work on the dashboards). A file is fetched only by
someone whose stations cover all of its stations (404 for anyone else).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from center.audit import audit
from center.roles import RoleRequiredMixin, require_role

from .exports import export_filename
from .forms import ExportForm, ReportForm
from .models import ReportExport, report_storage
from .selectors_report import (
    CELL,
    DATE,
    DECIMAL,
    INT,
    MINUTES,
    PERCENT,
    expand_stations,
    export_list,
    get_export_for_user,
    monthly_report,
)
from .services import EXPORT_ROLES, export_request, retention_days

# The page computes the report while it loads: up to a month or so (a city
# month reads ~35,000–120,000 orders in 1–2 s). A longer range is written as
# a file by the task, with its progress bar.
PAGE_MAX_DAYS = 31
# The print page draws every row of "stations × categories" up to this many
# (a branch, or the city by station); past it, the station totals only, and
# the file has the rest (a city month has ~5,000 rows: a page too long to print).
PAGE_DETAIL_ROWS = 1500


def shown(value, kind: str) -> str:
    """A figure as the page prints it: rates in %, minutes with one decimal,
    "—" for none (a rate whose denominator is 0)."""
    if value is None or value == "":
        return "—" if kind in (PERCENT, MINUTES) else ""
    if kind == PERCENT:
        return f"{value * 100:.1f}%"
    if kind == MINUTES:
        return f"{value:.1f}"
    if kind == DECIMAL:
        return number_format(Decimal(value), 2)
    if kind == DATE and isinstance(value, datetime.date):
        return value.isoformat()
    if kind == INT:
        return str(value)
    return str(value)


def _display(section, *, detail: bool = True) -> dict:
    rows = section.rows if detail else [r for r in section.rows if r.get("kind") != CELL]
    return {
        "key": section.key,
        "title": section.title,
        "columns": [
            {"label": c.label, "numeric": c.kind not in ("text", DATE)} for c in section.columns
        ],
        "rows": [
            {
                "total": row.get("kind", CELL) != CELL,
                "cells": [
                    (shown(row.get(c.key), c.kind), c.kind not in ("text", DATE))
                    for c in section.columns
                ],
            }
            for row in rows
        ],
        "shortened": len(rows) < len(section.rows),
    }


def _station_ids(form) -> frozenset[int] | None:
    station = form.cleaned_data.get("station")
    return expand_stations([station.pk]) if station else None


class MonthlyReportView(RoleRequiredMixin, TemplateView):
    template_name = "reports/report_monthly.html"
    allowed_roles = EXPORT_ROLES

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        form = ReportForm(self.request.GET or None, user=user)
        if not self.request.GET:
            form = ReportForm({}, user=user)
        ctx["form"] = form
        ctx["export_form"] = ExportForm(user=user)
        if not form.is_valid():
            return ctx
        data = form.cleaned_data
        ctx["range"] = data
        if (data["end"] - data["start"]).days + 1 > PAGE_MAX_DAYS:
            ctx["too_long"] = PAGE_MAX_DAYS
            return ctx
        report = monthly_report(
            user=user, start=data["start"], end=data["end"], station_ids=_station_ids(form)
        )
        detail = (
            len(report.sections[0].rows) <= PAGE_DETAIL_ROWS
            or self.request.GET.get("detail") == "1"
        )
        ctx.update(
            report=report,
            summary=[(label, shown(value, kind)) for label, value, kind in report.summary],
            sections=[_display(s, detail=detail or s.key != "orders") for s in report.sections],
            scope=data["station"] or (_("City-wide") if report.is_city else _("My stations")),
            query=urlencode(
                {
                    "start": data["start"].isoformat(),
                    "end": data["end"].isoformat(),
                    **({"station": data["station"].pk} if data["station"] else {}),
                }
            ),
        )
        return ctx


@require_POST
def export_create(request):
    """Ask for a file of the report (the form of the report page or of the
    files page); the task writes it, the detail page shows its progress."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('reports:export_list')}")
    require_role(request.user, *EXPORT_ROLES)
    form = ExportForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            export = export_request(
                actor=request.user,
                start=data["start"],
                end=data["end"],
                format=data["format"],
                station_ids=[data["station"].pk] if data["station"] else None,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The file is being written."))
            return redirect(export)
    else:
        errors = [str(e) for field in form.errors.values() for e in field]
        messages.error(request, " ".join(errors))
    return redirect("reports:export_list")


class ExportListView(RoleRequiredMixin, TemplateView):
    template_name = "reports/export_list.html"
    allowed_roles = EXPORT_ROLES

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["exports"] = export_list(user=self.request.user)
        ctx["form"] = ExportForm(user=self.request.user)
        ctx["retention"] = retention_days()
        return ctx


class ExportDetailView(RoleRequiredMixin, TemplateView):
    """One file: what it covers, who asked, and its progress bar (the
    ``fragment`` URL, polled every second by htmx until it is finished)."""

    template_name = "reports/export_detail.html"
    allowed_roles = EXPORT_ROLES
    fragment = False

    def load(self, pk: int, **kwargs) -> None:
        self.export = get_export_for_user(user=self.request.user, pk=pk)

    def get_template_names(self):
        return ["reports/_export_progress.html" if self.fragment else self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["export"] = self.export
        ctx["finished"] = self.export.status in (
            ReportExport.Status.DONE,
            ReportExport.Status.FAILED,
        )
        return ctx


def export_download(request, pk: int):
    """The file, streamed, after the same scope check as the list (404 for
    anyone else, and for a file not yet written or deleted)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    require_role(request.user, *EXPORT_ROLES)
    export = get_export_for_user(user=request.user, pk=pk)
    if export.status != ReportExport.Status.DONE or not export.file:
        raise Http404
    try:
        handle = report_storage().open(export.file.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    xlsx = export.format == ReportExport.Format.XLSX
    with translation.override(settings.LANGUAGE_CODE):  # as the file's own words
        name = export_filename(
            start=export.start,
            end=export.end,
            scope=export.scope_label,
            ext="xlsx" if xlsx else "zip",
        )
    # Who took a copy of the figures, and when (the file leaves the portal).
    audit(
        actor=request.user,
        action="reports.export.downloaded",
        target=export,
        data={"start": str(export.start), "end": str(export.end), "scope": export.scope_label},
    )
    # FileResponse writes Content-Disposition with filename*=utf-8''… (RFC 5987)
    # for a Chinese name, and an ASCII-safe fallback for old clients.
    return FileResponse(handle, as_attachment=True, filename=name)
