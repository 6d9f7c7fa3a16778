"""Issue 8's measure: the three dispatch rankings at city size, per order.

``bench_dispatch`` prints :func:`time_rankings`; ``bench`` times the
volunteer ranking among its pages on the orders of :func:`sample_orders`.
"""

import datetime
import math
import statistics
import time
from collections.abc import Callable
from functools import partial

from django.db import connection
from django.utils import timezone

from center.models import Station
from requests import dispatch
from requests.models import ServiceRequest

from .build import BenchError


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)] if ordered else math.nan


def sample_orders(samples: int) -> list[ServiceRequest]:
    """The latest order at each of ``samples`` stations spread evenly over the
    stations; every third one wants a time tomorrow (weekly hours then, not
    being on duty, decide). The same orders for the same data."""
    stations = list(
        Station.objects.exclude(kind=Station.Kind.CENTER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not stations:
        raise BenchError("No data: build it first (run without --no-build).")
    step = max(1, len(stations) // max(samples, 1))
    orders, i = [], 0
    while len(orders) < samples and i < len(stations) * 2:
        station_id = stations[(i * step + i // len(stations)) % len(stations)]
        i += 1
        order = (
            ServiceRequest.objects.filter(station_id=station_id)
            .select_related("item", "station")
            .order_by("-received_at", "-id")
            .first()
        )
        if order is not None and all(o.pk != order.pk for o in orders):
            orders.append(order)
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    for n, order in enumerate(orders):
        order.preferred_time = (
            tomorrow.replace(hour=10, minute=0, second=0, microsecond=0) if n % 3 == 2 else None
        )
    return orders


def backend_cpu() -> Callable[[], int] | None:
    """A function giving the CPU nanoseconds this connection's PostgreSQL
    backend has used (from /proc, when the server runs on this machine and
    it is readable), else None."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        path = f"/proc/{cur.fetchone()[0]}/schedstat"
    try:
        with open(path) as f:
            int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None

    def read() -> int:
        with open(path) as f:
            return int(f.read().split()[0])

    return read


def time_rankings(
    orders: list[ServiceRequest], *, out: Callable[[str], None], explain: bool, limit: int = 50
) -> None:
    """Rank each order with the three rankings (after one untimed pass) and
    print one line per ranking: wall, SQL and CPU milliseconds."""
    rankings = [
        ("volunteer_candidates", partial(dispatch.volunteer_candidates, limit=limit)),
        ("merchant_candidates", dispatch.merchant_candidates),
        ("team_candidates", dispatch.team_candidates),
    ]
    for _name, rank in rankings:  # warm the caches once, untimed
        for order in orders:
            rank(order)
    cpu_of = backend_cpu()
    out(
        f"Ranking {len(orders)} orders at {len(orders)} stations "
        f"(one in three for tomorrow 10:00; the first {limit} volunteers), after one "
        f"untimed pass; ms per ranking "
        f"(wall clock; SQL: in the database calls; CPU: this process and its database "
        f"backend on the CPU, what a ranking costs on an idle machine):"
    )
    out(
        f"  {'ranking':<22}{'median':>8}{'p90':>8}{'max':>8}{'SQL med':>9}"
        f"{'CPU med':>9}{'CPU p90':>9}{'queries':>9}{'found':>7}"
    )
    for name, rank in rankings:
        runs = []
        for order in orders:
            queries: list[tuple[float, str, object]] = []

            def capture(execute, sql, params, many, context, queries=queries):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    queries.append(((time.perf_counter() - started) * 1000, sql, params))

            with connection.execute_wrapper(capture):
                server = cpu_of() if cpu_of else 0
                client = time.process_time_ns()
                started = time.perf_counter()
                found = len(rank(order))
                ms = (time.perf_counter() - started) * 1000
                cpu = time.process_time_ns() - client
                cpu += (cpu_of() - server) if cpu_of else 0
            runs.append((ms, queries, found, order, cpu / 1e6))
        totals = [r[0] for r in runs]
        sql_ms = [sum(q[0] for q in r[1]) for r in runs]
        cpu_ms = [r[4] for r in runs]
        counts = sorted({len(r[1]) for r in runs})
        cpu = (
            f"{statistics.median(cpu_ms):>9.1f}{pct(cpu_ms, 0.9):>9.1f}"
            if cpu_of
            else f"{'-':>9}{'-':>9}"
        )
        out(
            f"  {name:<22}{statistics.median(totals):>8.1f}{pct(totals, 0.9):>8.1f}"
            f"{max(totals):>8.1f}{statistics.median(sql_ms):>9.1f}{cpu}"
            f"{'/'.join(map(str, counts)):>9}{statistics.median(r[2] for r in runs):>7.0f}"
        )
        if explain:
            slowest = max(runs, key=lambda r: r[0])
            _ms, sql, params = max(slowest[1], key=lambda q: q[0])
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(f"      {row[0]}" for row in cur.fetchall())
            out(
                f"    slowest: order {slowest[3].number} at station {slowest[3].station_id}, "
                f"{slowest[0]:.1f} ms; its slowest query:\n      {sql}\n{plan}"
            )
