"""What each timed page and operation may cost: the one place budgets live.

Copied from issue 10's table (measured on the project's 2-core machine at
city scale, in-process, DEBUG off, medians). A name here is a timed case of
``requests.bench.pages``; a case without an entry gets ``DEFAULT`` until
someone sets one. ``queries`` caps the query count; ``constant`` asks the
count to be the same for every sampled input.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    ms: float
    queries: int | None = None
    constant: bool = False

    def __str__(self) -> str:
        parts = [f"{self.ms:g} ms"]
        if self.queries is not None:
            parts.append(f"{self.queries} q")
        if self.constant:
            parts.append("const q")
        return ", ".join(parts)


# A page the issue gives no budget: 100 ms until someone sets one.
DEFAULT = Budget(100)

BUDGETS: dict[str, Budget] = {
    # Orders list at the busiest branch (operator, filtered by station). Issue: 81 ms, 8 q.
    "orders_busy_station": Budget(15, 8),
    # Orders list as that branch's station manager, 200 pages deep (keyset). Issue: 249 ms.
    "orders_station_manager_p200": Budget(15),
    # Volunteers list, on duty and in-service members (center manager). Issue: 76 ms.
    "volunteers_on_duty_in_service": Budget(15),
    # Complaints list as the station manager. Issue: 79 ms.
    "complaints_station_manager": Budget(15),
    # Order detail of an order still to assign, with the dispatch ranking. Issue: 278 ms, 52 q.
    "order_detail": Budget(40, 12),
    # The volunteer ranking alone (the order page's 10) over 30 sampled orders; the
    # same query count for every order. Issue: median 1,352 ms, p90 1,743 ms, 9-33 q.
    "dispatch_ranking": Budget(20, constant=True),
    # Intake: POST a new order. Issue: 113-125 orders/s, keep >= 100/s (<= 10 ms each).
    "intake_post": Budget(10),
    # Intake, then the new order's page. Issue: 0.8-0.9 orders/s; >= 50/s (<= 20 ms each).
    "intake_and_land": Budget(20),
    # Monthly station x category aggregate over one month as a plain ORM query:
    # what the summary table replaces (issue: 159 ms; <= 50 ms "(summary
    # table)"), timed to show the gain; the budget is the summary's, below.
    "monthly_aggregate": DEFAULT,
    # The same month read from that summary table (selectors.month_stats), as the
    # center manager: how the report meets the 50 ms.
    "monthly_summary": Budget(50),
    # The order form (GET) for a resident the console found. Issue: 75 ms.
    "order_create_form": Budget(15),
    # Admin orders searched by the caller's number. Issue: 2,692 ms.
    "admin_orders_search_phone": Budget(30),
    # Admin orders searched by order number. Issue: 1,811 ms.
    "admin_orders_search_number": Budget(10),
    # Admin residents searched by phone, then by name. Issue: 304 ms.
    "admin_residents_search_phone": Budget(30),
    "admin_residents_search_name": Budget(30),
    # Admin changelists. Issue: 25 / 26 / 21 ms, 4 q (a plain ModelAdmin: 239 / 72 / 77 ms).
    "admin_orders": Budget(15),
    "admin_volunteers": Budget(15),
    "admin_residents": Budget(15),
    # Console lookup by the first four digits typed. Issue: 17 ms.
    "console_lookup_prefix4": Budget(10),
    # Issue 11 (no figures given: "fast, indexed, no per-row queries"): a list
    # page is held to the lists' 15 ms; a page of several short lists (a
    # resident's file, the care tabs, a volunteer's residents) to 30 ms; the
    # wall and a shared wish are public pages, 15 ms.
    "page_requests_resident_list": Budget(15),
    "page_requests_resident_detail": Budget(30),
    "page_requests_care_overview": Budget(30),
    "page_requests_care_resident": Budget(30),
    "page_requests_my_care": Budget(30),
    "page_requests_wish_wall": Budget(15),
    "page_requests_wish_public": Budget(15),
    "page_requests_wish_list": Budget(15),
    "page_requests_wish_overdue": Budget(15),
    "page_requests_my_wishes": Budget(15),
    # Issue 14, part A: the call log and unmatched requests are lists (15 ms, a
    # constant query count); the console's call panel is on the console, used
    # 800 times a day: its GET as the lookup (10 ms), a logged call as an intake (10 ms).
    "calls_station_manager": Budget(15, 8),
    "calls_operator_today": Budget(15, 8),
    "call_panel": Budget(10, 4),
    "call_panel_post": Budget(10),
    "unmatched_station_manager": Budget(15, 8),
    # The resident export: up to 5,000 rows as CSV, each with its access-log
    # row (center.pii.exported); an export, not a page.
    "page_requests_resident_export": Budget(3000),
}


def budget_for(name: str) -> Budget:
    return BUDGETS.get(name, DEFAULT)
