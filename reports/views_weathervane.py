"""The weathervane page (风向标): staff only. Center managers and operators see
the city (operators study what callers ask for, DOMAIN.md: "the calls are a
weathervane"), read from the hourly snapshot; station managers see their
stations, computed live. Anyone else: 403 (``RoleRequiredMixin``)."""

import datetime

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from center.roles import STAFF_ROLES, RoleRequiredMixin
from reports import selectors_weathervane as wv

CHART_ROWS = 10


def _unmatched_list_url() -> str | None:
    """Part A's list of unmatched requests (``requests:unmatched_list``),
    filtered by the period's dates and the group's category; ``q`` carries
    the words for a text filter. None if that page is not installed."""
    try:
        return reverse("requests:unmatched_list")
    except NoReverseMatch:
        return None


def _dates(d: dict) -> dict:
    return {
        "start": datetime.date.fromisoformat(d["start"]),
        "end": datetime.date.fromisoformat(d["end"]),
    }


class WeathervaneView(RoleRequiredMixin, TemplateView):
    template_name = "reports/weathervane.html"
    allowed_roles = tuple(STAFF_ROLES)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        params = self.request.GET
        period = wv.period_for(params.get("period"), params.get("month"))
        vs = (
            params.get("vs") if params.get("vs") in (wv.VS_PREVIOUS, wv.VS_YEAR) else wv.VS_PREVIOUS
        )
        by = params.get("by") if params.get("by") in (wv.BY_COUNT, wv.BY_PERCENT) else wv.BY_COUNT
        data = wv.weathervane(user=self.request.user, period=period)
        floor = data["min_volume"]
        items = wv.rank(data["items"], vs=vs, by=by, floor=floor)
        communities = wv.rank(data["communities"], vs=vs, by=by, floor=floor)
        vs_label = _("Previous period") if vs == wv.VS_PREVIOUS else _("A year earlier")
        unmatched = data["unmatched"]
        ctx.update(
            period=period,
            current=_dates(data["period"]),
            previous=_dates(data["previous"]),
            year=_dates(data["year"]),
            last_month=wv.last_complete_month(),
            vs=vs,
            by=by,
            vs_label=vs_label,
            data=data,
            items=items,
            communities=communities,
            unmatched=unmatched,
            unmatched_url=_unmatched_list_url(),
            items_chart={
                "id": "weathervane-items",
                "title": _("Orders of the top risers, now and then"),
                "type": "bar",
                "x_label": _("Service item"),
                "series": [_("This period"), vs_label],
                "rows": [[r["name"], r["current"], r["vs"]["base"]] for r in items[:CHART_ROWS]],
            },
            categories_chart={
                "id": "weathervane-categories",
                "title": _("Unmatched requests per category"),
                "type": "bar",
                "stacked": True,
                "x_label": _("Category"),
                "series": [_("Calls"), _("Mentions at community talks")],
                "rows": [
                    [c["category"] or str(_("No category")), c["calls"], c["mentions"]]
                    for c in unmatched["categories"]
                ],
            },
            kinds=[
                (wv.MONTH, _("A month")),
                (wv.DAYS_7, _("Last 7 days")),
                (wv.DAYS_30, _("Last 30 days")),
            ],
        )
        return ctx
