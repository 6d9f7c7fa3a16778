"""What ``bench`` times: the pages and operations of issue 10's table, then
every other page of the apps found by reversing their URL names.

A :class:`Case` is one callable run with the test client of a role (or
without a client: the ranking, the aggregate). :func:`cases` builds the list
from a :class:`World`: the logins and the rows the cases ask for, found in
the data set the builder made (the busiest branch, an order still to
assign, a resident's number ...).
"""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.apps import apps as django_apps
from django.db.models import Avg, Count, Q
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.views.generic.list import MultipleObjectMixin

from center.models import Role, ServiceItem, Station, User
from events.models import Activity, Venue
from requests import dispatch, selectors
from requests.models import (
    CallLog,
    CareVisit,
    MicroWish,
    Resident,
    ResidentPhone,
    ServiceRequest,
    UnmatchedRequest,
)
from volunteers.models import Complaint, Merchant, Organization, ServiceTeam, Volunteer

from .anchor_urls import PREFIX
from .build import BENCH_PASSWORD, CENTER_MANAGER, OPERATOR, STATION_MANAGER, BenchError
from .rankings import sample_orders

OPEN = [str(s) for s in ServiceRequest.OPEN]

# Open to anyone, or not pages (as tests/test_url_sweep.py's PUBLIC).
PUBLIC = {
    "login",
    "logout",
    "set_language",
    "healthz",
    "favicon",
    "account_activate",
    "requests:device_call",
}


@dataclass
class Case:
    name: str  # the key in budgets.BUDGETS and the file name under var/bench
    label: str
    role: str | None  # whose client runs it ("auto": the first the page lets in); None: none
    run: Callable  # run(client, i): one timed run (i counts runs, for fresh inputs)
    model: type | None = None  # the rows a list shows: its anchors
    expect: int = 200  # the status a response must have
    per_repeat: int = 1  # runs per repeat (the ranking: one per sampled order)
    writes: bool = False  # creates orders: removed after the timing
    note: str = ""


@dataclass
class World:
    users: dict[str, User]
    branch: Station
    manager_scope: list[int]
    order_to_assign: ServiceRequest
    samples: list[ServiceRequest]
    residents: list[Resident]  # without open orders: intake
    phone: str  # a resident's mobile
    caller_phone: str  # an order's caller number
    order_number: str
    resident_name: str
    item_ids: list[int]


def _user(username: str) -> User:
    user = User.objects.filter(username=username, password=BENCH_PASSWORD).first()
    if user is None:
        raise BenchError(f"No login {username!r}: build the data set first.")
    return user


def world(*, samples: int, intake_runs: int) -> World:
    """The logins and rows the cases use, from the data set."""
    station_manager = _user(STATION_MANAGER)
    branch = station_manager.stations.order_by("pk").first()
    if branch is None:
        raise BenchError("The bench station manager runs no station: rebuild the data set.")
    scope = list(
        Station.objects.filter(Q(pk=branch.pk) | Q(parent=branch)).values_list("pk", flat=True)
    )
    volunteer = (
        User.objects.filter(role=Role.VOLUNTEER, password=BENCH_PASSWORD).order_by("pk").first()
    )
    users = {
        "operator": _user(OPERATOR),
        "center": _user(CENTER_MANAGER),
        "station": station_manager,
    }
    if volunteer is not None:
        users["volunteer"] = volunteer
    to_assign = (
        ServiceRequest.objects.filter(station_id__in=scope, status=ServiceRequest.Status.RECEIVED)
        .order_by("-received_at", "-id")
        .first()
        or ServiceRequest.objects.filter(status=ServiceRequest.Status.RECEIVED)
        .order_by("-received_at", "-id")
        .first()
    )
    if to_assign is None:
        raise BenchError("No order waits to be assigned: rebuild the data set.")
    latest = ServiceRequest.objects.filter(station_id__in=scope).order_by("-received_at", "-id")
    caller = latest.exclude(caller_phone="").values_list("caller_phone", flat=True).first()
    # Residents with no open order, one per intake run (a repeat call would be
    # offered a merge instead of a new order).
    residents = []
    for resident in Resident.objects.filter(community__isnull=False).order_by("pk")[
        : intake_runs * 3
    ]:
        if not ServiceRequest.objects.filter(resident=resident, status__in=OPEN).exists():
            residents.append(resident)
        if len(residents) >= intake_runs:
            break
    phone = (
        ResidentPhone.objects.filter(number__startswith="1", resident__in=residents[:1])
        .values_list("number", flat=True)
        .first()
        or ResidentPhone.objects.filter(number__startswith="1").values_list("number", flat=True)[0]
    )
    return World(
        users=users,
        branch=branch,
        manager_scope=scope,
        order_to_assign=to_assign,
        samples=sample_orders(samples),
        residents=residents,
        phone=phone,
        caller_phone=caller or phone,
        order_number=latest.values_list("number", flat=True).first(),
        resident_name=Resident.objects.order_by("pk").values_list("name", flat=True)[
            Resident.objects.count() // 2
        ],
        item_ids=list(
            ServiceItem.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
        ),
    )


# --- runs -------------------------------------------------------------------------------------


def get(url: str, client, i: int, **kwargs):
    return client.get(url, **kwargs)


def intake(w: World, client, i: int, *, follow: bool, offset: int):
    """The order form posted as the browser posts it (a fresh intake key)."""
    resident = w.residents[(offset + i) % len(w.residents)]
    return client.post(
        reverse("requests:order_create", args=[resident.pk]),
        {
            "item": w.item_ids[(offset + i) % len(w.item_ids)],
            "kind": "help",
            "channel": "hotline",
            "urgency": "normal",
            "caller_phone": w.phone,
            "description": "水龙头漏水",
            "address": resident.address,
            "community": resident.community_id,
            "station": "",
            "preferred_time": "",
            "intake_key": str(uuid.uuid4()),
        },
        follow=follow,
    )


def call_post(w: World, client, i: int):
    """The call panel posted as htmx posts it: an enquiry from a resident's number."""
    return client.post(
        reverse("requests:call_panel"),
        {"kind": "enquiry", "phone": w.phone, "duration": "2:10", "note": "问价格"},
        HTTP_HX_REQUEST="true",
    )


def ranking(w: World, client, i: int):
    return dispatch.volunteer_candidates(w.samples[i % len(w.samples)], limit=10)


def merchants(w: World, client, i: int):
    return dispatch.merchant_candidates(w.samples[i % len(w.samples)])


def teams(w: World, client, i: int):
    return dispatch.team_candidates(w.samples[i % len(w.samples)])


def month_bounds() -> tuple[datetime.datetime, datetime.datetime]:
    """Last calendar month, local time."""
    first = timezone.localdate().replace(day=1)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(previous, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
    )


def monthly_aggregate(client, i: int) -> list:
    """Orders per station and service category over one month: received,
    done, and the mean response time (what a monthly report reads)."""
    start, end = month_bounds()
    done = [ServiceRequest.Status.COMPLETED, ServiceRequest.Status.ARCHIVED]
    return list(
        ServiceRequest.objects.filter(received_at__gte=start, received_at__lt=end)
        .values("station_id", "item__category_id")
        .annotate(
            orders=Count("id"),
            done=Count("id", filter=Q(status__in=done)),
            response=Avg("response_seconds"),
        )
        .order_by()
    )


def monthly_summary(w: World, client, i: int) -> list:
    """The same month read from the report's summary table (requests.selectors.month_stats)."""
    return list(selectors.month_stats(user=w.users["center"], month=month_bounds()[0].date()))


def _page_200(w: World) -> tuple[str, str]:
    """The station manager's orders list, 200 pages deep: by the keyset cursor
    the list hands out when it pages by keyset, else ``?page=``. A small data
    set goes as deep as it has pages."""
    url = reverse("requests:order_list")
    view = resolve(url).func.view_class
    per_page = getattr(view, "paginate_by", None) or 50
    scoped = ServiceRequest.objects.filter(station_id__in=w.manager_scope)
    total = scoped.count()
    page = max(1, min(200, (total - 1) // per_page + 1))
    time_field = getattr(view, "keyset_time_field", None)
    if time_field is None:
        return f"{url}?page={page}", f"page {page}"
    if page == 1:
        return url, "page 1"
    boundary = scoped.order_by(f"-{time_field}", "-pk")[(page - 1) * per_page - 1]
    from center import pagination

    paginator = getattr(pagination, "KeysetPaginator", None)
    cursor = (
        paginator(scoped, per_page, time_field=time_field).cursor_of(boundary)
        if paginator
        else f"{getattr(boundary, time_field).isoformat()}_{boundary.pk}"
    )
    from urllib.parse import urlencode

    return f"{url}?{urlencode({'after': cursor})}", f"page {page} (keyset)"


def cases(w: World) -> list[Case]:
    """Issue 10's table, in its order."""
    orders = reverse("requests:order_list")
    admin_orders = reverse("admin:requests_servicerequest_changelist")
    admin_residents = reverse("admin:requests_resident_changelist")
    page_url, page_label = _page_200(w)
    intake_runs = len(w.residents) // 2
    resident = w.residents[0] if w.residents else Resident.objects.order_by("pk").first()
    return [
        Case(
            "orders_busy_station",
            "orders list, busiest branch",
            "operator",
            partial(get, f"{orders}?station={w.branch.pk}"),
            ServiceRequest,
            note=f"{w.branch.name}, station {w.branch.pk}",
        ),
        Case(
            "orders_station_manager_p200",
            f"orders list, station manager, {page_label}",
            "station",
            partial(get, page_url),
            ServiceRequest,
        ),
        Case(
            "volunteers_on_duty_in_service",
            "volunteers list, on duty & in service",
            "center",
            partial(get, reverse("volunteers:volunteer_list") + "?on_duty=true&kind=in_service"),
            Volunteer,
        ),
        Case(
            "complaints_station_manager",
            "complaints list, station manager",
            "station",
            partial(get, reverse("volunteers:complaint_list")),
            Complaint,
        ),
        Case(
            "order_detail",
            "order detail with the dispatch ranking",
            "operator",
            partial(get, w.order_to_assign.get_absolute_url()),
        ),
        Case(
            "dispatch_ranking",
            f"dispatch ranking alone (volunteers, 10), {len(w.samples)} orders",
            None,
            partial(ranking, w),
            per_repeat=len(w.samples),
        ),
        Case(
            "dispatch_merchants",
            f"dispatch ranking, merchants, {len(w.samples)} orders",
            None,
            partial(merchants, w),
            per_repeat=len(w.samples),
        ),
        Case(
            "dispatch_teams",
            f"dispatch ranking, teams, {len(w.samples)} orders",
            None,
            partial(teams, w),
            per_repeat=len(w.samples),
        ),
        Case(
            "intake_post",
            "intake: POST a new order",
            "operator",
            partial(intake, w, follow=False, offset=0),
            expect=302,
            writes=True,
        ),
        Case(
            "intake_and_land",
            "intake, then the new order's page",
            "operator",
            partial(intake, w, follow=True, offset=intake_runs),
            writes=True,
        ),
        Case(
            "monthly_aggregate",
            "monthly station × category aggregate (ORM, last month)",
            None,
            monthly_aggregate,
        ),
        *(
            [
                Case(
                    "monthly_summary",
                    "monthly figures from the summary table (last month)",
                    "center",
                    partial(monthly_summary, w),
                )
            ]
            if hasattr(selectors, "month_stats")
            else []
        ),
        Case(
            "order_create_form",
            "order create form (GET)",
            "operator",
            partial(
                get, reverse("requests:order_create", args=[resident.pk]) + f"?phone={w.phone}"
            ),
        ),
        Case(
            "admin_orders_search_phone",
            "admin orders: search by caller phone",
            "center",
            partial(get, f"{admin_orders}?q={w.caller_phone}"),
            ServiceRequest,
        ),
        Case(
            "admin_orders_search_number",
            "admin orders: search by order number",
            "center",
            partial(get, f"{admin_orders}?q={w.order_number}"),
            ServiceRequest,
        ),
        Case(
            "admin_residents_search_phone",
            "admin residents: search by phone",
            "center",
            partial(get, f"{admin_residents}?q={w.phone}"),
            Resident,
        ),
        Case(
            "admin_residents_search_name",
            "admin residents: search by name",
            "center",
            partial(get, f"{admin_residents}?q={w.resident_name}"),
            Resident,
        ),
        Case(
            "admin_orders",
            "admin orders changelist",
            "center",
            partial(get, admin_orders),
            ServiceRequest,
        ),
        Case(
            "admin_volunteers",
            "admin volunteers changelist",
            "center",
            partial(get, reverse("admin:volunteers_volunteer_changelist")),
            Volunteer,
        ),
        Case(
            "admin_residents",
            "admin residents changelist",
            "center",
            partial(get, admin_residents),
            Resident,
        ),
        # Issue 14, part A: the call log (the station manager's, keyset-merged
        # over their stations; the operator's, city-wide, filtered to today) and
        # the console's call panel (GET, as the console loads it; POST, an enquiry).
        Case(
            "calls_station_manager",
            "call log, station manager",
            "station",
            partial(get, reverse("requests:call_list")),
            CallLog,
        ),
        Case(
            "calls_operator_today",
            "call log, operator, today's enquiries",
            "operator",
            partial(
                get,
                reverse("requests:call_list")
                + f"?kind=enquiry&date_from={timezone.localdate().isoformat()}",
            ),
            CallLog,
        ),
        Case(
            "call_panel",
            "console call panel (GET)",
            "operator",
            partial(get, reverse("requests:call_panel")),
        ),
        Case(
            "call_panel_post",
            "console call panel: log an enquiry (POST)",
            "operator",
            partial(call_post, w),
            writes=True,
        ),
        Case(
            "unmatched_station_manager",
            "unmatched requests, station manager",
            "station",
            partial(get, reverse("requests:unmatched_list")),
            UnmatchedRequest,
        ),
        Case(
            "console_lookup_prefix4",
            f"console lookup, 4-digit prefix ({w.phone[:4]})",
            "operator",
            partial(get, reverse("requests:console_lookup") + f"?phone={w.phone[:4]}"),
        ),
    ]


# --- every other page -------------------------------------------------------------------------


def _named_patterns(resolver=None, namespace=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin" or str(p.pattern) == PREFIX:
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _named_patterns(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", p


def app_pages() -> list[tuple[str, URLPattern]]:
    """Every named URL of center and of the apps that plug their pages in."""
    app_labels = {"center"} | {
        c.label for c in django_apps.get_app_configs() if getattr(c, "url_prefix", None) is not None
    }
    return sorted(
        (name, p)
        for name, p in _named_patterns()
        if name.split(":")[0] in app_labels and name not in PUBLIC
    )


# Pages with an object in their URL: which object of the data set (like
# tests/test_url_sweep.py's REGISTRY). Others with arguments are listed as not timed.
DETAIL_ARGS: dict[str, Callable[[World], dict]] = {
    "center:station_detail": lambda w: {"pk": w.branch.pk},
    "center:item_detail": lambda w: {"pk": w.item_ids[0]},
    "volunteers:volunteer_detail": lambda w: {
        "pk": Volunteer.objects.filter(station_id__in=w.manager_scope).order_by("pk")[0].pk
    },
    "volunteers:merchant_detail": lambda w: {"pk": _merchant(w).pk},
    "volunteers:merchant_update": lambda w: {"pk": _merchant(w).pk},
    "volunteers:volunteer_update": lambda w: {
        "pk": Volunteer.objects.filter(station_id__in=w.manager_scope).order_by("pk")[0].pk
    },
    "volunteers:team_update": lambda w: {
        "pk": ServiceTeam.objects.filter(station=w.branch).order_by("pk")[0].pk
    },
    "volunteers:complaint_create": lambda w: {
        "provider": "volunteer",
        "pk": Volunteer.objects.filter(station_id__in=w.manager_scope).order_by("pk")[0].pk,
    },
    "volunteers:import_upload": lambda w: {"kind": "volunteers"},
    "volunteers:import_template": lambda w: {"kind": "volunteers", "fmt": "csv"},
    "requests:my_order": lambda w: {
        "pk": ServiceRequest.objects.filter(provider__user=w.users["volunteer"])
        .order_by("-pk")
        .values_list("pk", flat=True)[0]
    },
    "center:station_update": lambda w: {"pk": w.branch.pk},
    "center:item_update": lambda w: {"pk": w.item_ids[0]},
    "volunteers:team_detail": lambda w: {
        "pk": ServiceTeam.objects.filter(station=w.branch).order_by("pk")[0].pk
    },
    "volunteers:complaint_detail": lambda w: {
        "pk": Complaint.objects.order_by("-recorded_at", "-pk")[0].pk
    },
    "volunteers:organization_export": lambda w: {
        "pk": Organization.objects.order_by("pk")[0].pk,
        "year": timezone.localdate().year,
        "quarter": 1,
    },
    # Issue 11: a special-group resident of the busiest branch's communities,
    # a visit, a wish in the scope, a wish on the wall.
    "requests:resident_detail": lambda w: {"pk": _special_resident(w)},
    "requests:care_resident": lambda w: {"pk": _special_resident(w)},
    "requests:visit_detail": lambda w: {
        "pk": CareVisit.objects.order_by("-pk").values_list("pk", flat=True)[0]
    },
    "requests:wish_detail": lambda w: {
        "pk": MicroWish.objects.filter(station_id__in=w.manager_scope)
        .order_by("-pk")
        .values_list("pk", flat=True)[0]
    },
    "requests:wish_public": lambda w: {
        "pk": MicroWish.objects.filter(status=MicroWish.Status.PUBLISHED)
        .order_by("-pk")
        .values_list("pk", flat=True)[0]
    },
    "requests:followup": lambda w: {
        "pk": ServiceRequest.objects.filter(status=ServiceRequest.Status.COMPLETED)
        .order_by("-pk")
        .values_list("pk", flat=True)[0]
    },
    # Issue 12: the coming service day and, at the busiest branch, its first
    # venue (roster, a stall's report); a past day's venue for a full roster;
    # an activity held there; the current year of the record.
    "events:day_detail": lambda w: {"pk": _coming_venue(w).day_id},
    "events:venue_roster": lambda w: {"pk": _past_venue(w).pk},
    "events:venue_roster_fragment": lambda w: {"pk": _past_venue(w).pk},
    "events:stall_report": lambda w: {"pk": _past_venue(w).stalls.order_by("pk")[0].pk},
    "events:activity_detail": lambda w: {
        "pk": Activity.objects.filter(station=w.branch, status="held")
        .order_by("-date", "-pk")
        .values_list("pk", flat=True)[0]
    },
    "events:record_period": lambda w: {"period": str(timezone.localdate().year)},
    "events:record_print": lambda w: {"period": str(timezone.localdate().year)},
}


def _coming_venue(w: World) -> Venue:
    return Venue.objects.filter(station=w.branch, day__date__gte=timezone.localdate()).order_by(
        "day__date", "pk"
    )[0]


def _past_venue(w: World) -> Venue:
    return Venue.objects.filter(station=w.branch, day__date__lt=timezone.localdate()).order_by(
        "-day__date", "pk"
    )[0]


def _special_resident(w: World) -> int:
    return (
        Resident.objects.filter(is_special=True, community__serving_stations__in=w.manager_scope)
        .order_by("pk")
        .values_list("pk", flat=True)[0]
    )


def _merchant(w: World) -> Merchant:
    """A merchant serving the busiest branch (any, in a small data set)."""
    return (
        Merchant.objects.filter(stations=w.branch).order_by("pk").first()
        or Merchant.objects.order_by("pk")[0]
    )


# Already timed above (the same URL), or a form with a resident in its URL.
COVERED = {
    "requests:order_detail",
    "requests:order_create",
    "requests:call_list",
    "requests:call_panel",
    "requests:unmatched_list",
}


def _listed_model(url: str):
    """The model a list page shows (its anchors), None for other pages."""
    view = getattr(resolve(url).func, "view_class", None)
    if view is None or not issubclass(view, MultipleObjectMixin):
        return None
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        return filterset._meta.model
    return getattr(view, "model", None)


def page_cases(w: World) -> tuple[list[Case], list[str]]:
    """A case per other page (role: the first of center manager, operator,
    station manager, volunteer that the page lets in; settled on the first
    run), and the names not timed with why."""
    found, skipped, unfilled = [], [], []
    for name, pattern in app_pages():
        if name in COVERED:
            continue
        kwargs = {}
        if pattern.pattern.converters:
            fill = DETAIL_ARGS.get(name)
            if fill is None:
                unfilled.append(name)
                continue
            try:
                kwargs = fill(w)
            except (IndexError, KeyError):
                skipped.append(f"{name} (no such row in the data set)")
                continue
        url = reverse(name, kwargs=kwargs or None)
        found.append(
            Case(
                f"page_{name.replace(':', '_')}",
                f"page {name}",
                "auto",
                partial(get, url),
                model=_listed_model(url),
                note=url,
            )
        )
    if unfilled:
        skipped.append(
            "URLs naming an object that DETAIL_ARGS does not fill (mostly POST actions): "
            + ", ".join(unfilled)
        )
    return found, skipped
