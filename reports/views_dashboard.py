"""The staff dashboards (issue 14): the operator's / station manager's
(``/dashboard/``) and the center manager's (``/dashboard/center/``). Each page
polls its figures block every minute (htmx, ``…/figures/``), not the page.

Where the figures come from (``reports.selectors_dashboard``,
``reports.snapshot``): the city's from snapshots refreshed by a task every
minute; a station manager's today's figures live on the order indexes, their
care and service-day figures from their scope's snapshot; the overdue list
always live. Budget: 50 ms server time, a fixed number of queries
(docs/performance.md "Dashboards").
"""

import datetime

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from center.models import Role
from center.roles import ALL, STAFF_ROLES, RoleRequiredMixin, station_ids_for
from requests.models import ServiceRequest
from volunteers.models import Sanction

from . import snapshot
from .models import DashboardSnapshot
from .selectors_dashboard import branch_stations, live_figures, overdue


def pct(rate: float | None) -> float | None:
    """A fraction as a percentage with one decimal (None stays None: "—")."""
    return None if rate is None else round(rate * 100, 1)


def _time(value: str | None) -> datetime.datetime | None:
    return parse_datetime(value) if value else None


def hour_chart(figures: dict) -> dict:
    return {
        "id": "calls-orders-by-hour",
        "title": gettext_lazy("Today's calls and orders by hour"),
        "type": "bar",
        "x_label": gettext_lazy("Hour"),
        "series": [gettext_lazy("Calls"), gettext_lazy("Orders")],
        "rows": [[f"{h:02d}:00", calls, orders] for h, calls, orders in figures["by_hour"]],
    }


def open_chart(figures: dict) -> dict:
    labels = dict(ServiceRequest.Status.choices)
    return {
        "id": "open-by-status",
        "title": gettext_lazy("Open orders by status"),
        "type": "bar",
        "x_label": gettext_lazy("Status"),
        "series": [gettext_lazy("Orders")],
        # In the order's own sequence: a snapshot's JSON (jsonb) keeps no key order.
        "rows": [
            [labels[status], figures["open"][status]]
            for status in ServiceRequest.OPEN
            if status in figures["open"]
        ],
        "height": 200,
    }


def minutes_chart(figures: dict) -> dict:
    m = figures["minutes"]
    return {
        "id": "minutes",
        "title": gettext_lazy("Median minutes to take and to arrive (target %(n)s)")
        % {"n": m["target_minutes"]},
        "type": "bar",
        "x_label": gettext_lazy("Period"),
        "series": [gettext_lazy("To take"), gettext_lazy("To arrive"), gettext_lazy("Target")],
        "rows": [
            [
                label,
                m[period]["median_take_minutes"],
                m[period]["median_arrival_minutes"],
                m["target_minutes"],
            ]
            for period, label in (
                ("today", gettext_lazy("Today")),
                ("week", gettext_lazy("This week")),
            )
        ],
        "height": 200,
    }


def ops_context(user) -> dict:
    """The operator's figures for ``user``'s stations, their charts and the
    overdue list."""
    ids = station_ids_for(user)
    if ids is ALL:
        city = snapshot.read("city")
        figures, as_of, stale = city.data, city.computed_at, snapshot.is_stale(city)
        scope_as_of = as_of
    else:
        scoped = snapshot.read_scope(user)
        figures = {**live_figures(ids=ids, today=timezone.localdate()), **scoped.data}
        as_of, stale, scope_as_of = timezone.now(), False, scoped.computed_at
    minutes = figures["minutes"]
    for period in ("today", "week"):
        minutes[period]["response_pct"] = pct(minutes[period]["response_rate"])
        minutes[period]["arrival_pct"] = pct(minutes[period]["arrival_share"])
    satisfaction = figures["satisfaction_today"]
    satisfaction["pct"] = pct(satisfaction["rate"])
    waiting = figures["follow_ups_waiting"]
    waiting["oldest_at"] = _time(waiting["oldest"])
    day = figures["service_day"]
    if day:
        day["date_value"] = datetime.date.fromisoformat(day["date"])
    return {
        "city_scope": ids is ALL,
        "station_count": None if ids is ALL else len(ids),
        "figures": figures,
        "as_of": as_of,
        "scope_as_of": scope_as_of,
        "stale": stale,
        "overdue": overdue(user=user),
        # Today first, then the week (a snapshot's JSON keeps no key order).
        "minutes_rows": [(p, figures["minutes"][p]) for p in ("today", "week")],
        "charts": {
            "hours": hour_chart(figures),
            "open": open_chart(figures),
            "minutes": minutes_chart(figures),
        },
    }


class DashboardView(RoleRequiredMixin, TemplateView):
    """The operator's and station manager's dashboard (center managers see
    the city's too). ``fragment``: the figures block the page polls."""

    allowed_roles = tuple(STAFF_ROLES)
    template_name = "reports/dashboard.html"
    fragment = False

    def get_template_names(self):
        return ["reports/_dashboard_figures.html" if self.fragment else self.template_name]

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **ops_context(self.request.user)}


# --- The center manager's dashboard ----------------------------------------------------


def pct_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _rate_row(row: dict) -> dict:
    """A table row with its rates as percentages, and as text for the
    tables (formatted here: ~1,000 cells a view cost the templates ~10 ms)."""
    return {
        **row,
        "response_pct": pct(row.get("response_rate")),
        "resolution_pct": pct(row.get("resolution_rate")),
        "satisfaction_pct": pct(row.get("satisfaction_rate")),
        "rates_text": [
            pct_text(row.get(name))
            for name in ("response_rate", "resolution_rate", "satisfaction_rate")
        ],
        "hours_text": f"{row['hours']:g}" if "hours" in row else "",
    }


def trend_chart(trend: list[list], title: str) -> dict:
    return {
        "id": "rates-trend",
        "title": title,
        "type": "line",
        "x_label": gettext_lazy("Month"),
        "series": [
            gettext_lazy("Response rate"),
            gettext_lazy("Resolution rate"),
            gettext_lazy("Satisfaction rate"),
        ],
        "unit": "%",
        "rows": [
            [month[:7], pct(response), pct(resolution), pct(satisfaction)]
            for month, response, resolution, satisfaction in trend
        ],
    }


def stars_chart(stars: list[int], levels: list[int]) -> dict:
    names = [_("No star (under %(h)s h)") % {"h": levels[0]}] + [
        _("%(n)s star (%(h)s h)") % {"n": n, "h": h} for n, h in enumerate(levels, start=1)
    ]
    return {
        "id": "stars",
        "title": gettext_lazy("Volunteers by star level"),
        "type": "bar",
        "x_label": gettext_lazy("Star level"),
        "series": [gettext_lazy("Volunteers")],
        "rows": [[name, n] for name, n in zip(names, stars, strict=True)],
        "height": 220,
    }


def center_context(center, branch_pk: int | None) -> dict:
    """The center manager's figures (the ``center`` snapshot), narrowed to a
    branch by ``?branch=`` (its stations live: ``branch_stations``)."""
    data = center.data
    branches = [_rate_row(b) for b in data["branches"]]
    by_pk = {b["pk"]: b for b in branches}
    branch = by_pk.get(branch_pk)
    city = data["city"]
    if branch is not None:
        trend = branch["trend"]
        trend_title = _("%(name)s: the three rates over 12 months") % {"name": branch["name"]}
        stars = branch["stars"]
        stations = [_rate_row(s) for s in branch_stations(branch_id=branch["pk"])]
    else:
        trend = city["trend"]
        trend_title = _("The city: the three rates over 12 months")
        stars = city["stars"]
        stations = None
    sanction_labels = dict(Sanction.Level.choices)
    names = {b["pk"]: b["name"] for b in branches}
    top, bottom = (
        [{**_rate_row(s), "branch_name": names.get(s["branch"], "")} for s in data[which]]
        for which in ("top", "bottom")
    )
    return {
        "center": data,
        "city": _rate_row(city),
        "branches": branches,
        "branch": branch,
        "stations": stations,
        "rank_tables": [
            (_("Highest response rate this month"), top, "top-stations"),
            (_("Lowest response rate this month"), bottom, "bottom-stations"),
        ],
        "sanctions": [
            (label, city["sanctions"][k])
            for k, label in sanction_labels.items()
            if k in city["sanctions"]
        ],
        "sanctions_total": sum(city["sanctions"].values()),
        "month": datetime.date.fromisoformat(data["month"]),
        "center_charts": {
            "trend": trend_chart(trend, trend_title),
            "stars": stars_chart(stars, data["star_thresholds"]),
        },
    }


CENTER_HTML_SECONDS = 10 * 60


def _branch_pk(param: str | None) -> int | None:
    try:
        return int(param) if param else None
    except (TypeError, ValueError, OverflowError):
        return None


def center_part(request) -> dict:
    """The center manager's block, rendered once per snapshot, branch and
    language and kept in the cache: it is the same for every center manager
    until the snapshot is refreshed (every five minutes), and its ~1,000
    table cells and two charts cost more to render than the rest of the page.
    One query when cached (the snapshot's time), else the snapshot. A
    branch's block is not kept (any number could be typed as a branch, and
    each would fill the cache): the snapshot and its stations' four queries."""
    computed_at = (
        DashboardSnapshot.objects.filter(key="center").values_list("computed_at", flat=True).first()
    )
    branch_pk = _branch_pk(request.GET.get("branch"))
    html = None
    if computed_at is not None and branch_pk is None:
        html = cache.get(f"reports:center:{computed_at.timestamp()}:{get_language()}")
    if html is None:
        center = snapshot.read("center")
        computed_at = center.computed_at
        html = render_to_string(
            "reports/_dashboard_center_part.html",
            center_context(center, branch_pk),
            request=request,
        )
        if branch_pk is None:
            key = f"reports:center:{computed_at.timestamp()}:{get_language()}"
            cache.set(key, html, CENTER_HTML_SECONDS)
    age = (timezone.now() - computed_at).total_seconds()
    return {
        "center_html": mark_safe(html),  # rendered by our template, escaped there
        "center_as_of": computed_at,
        "center_stale": age > snapshot.STALE_AFTER["center"],
        "branch_pk": branch_pk,
    }


class CenterDashboardView(RoleRequiredMixin, TemplateView):
    """The center manager's dashboard: the operator's figures city-wide, then
    by branch (``?branch=`` narrows to one branch's stations)."""

    allowed_roles = (Role.CENTER_MANAGER,)
    template_name = "reports/dashboard_center.html"
    fragment = False

    def get_template_names(self):
        return ["reports/_dashboard_center_figures.html" if self.fragment else self.template_name]

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            **ops_context(self.request.user),
            **center_part(self.request),
        }
