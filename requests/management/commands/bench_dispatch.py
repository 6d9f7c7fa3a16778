"""Issue 8's benchmark: rank one order at city size (157k volunteers, 5M orders).

Builds the city's data set (``requests.bench.build``, the builder ``bench``
uses, at the sizes given here), then times ``dispatch.volunteer_candidates``,
``merchant_candidates`` and ``team_candidates`` for orders sampled across
the stations (``requests.bench.rankings``). It writes only to a PostgreSQL
database whose name contains "bench" (it empties the tables it fills), or
to a test database when told so::

    createdb -h 127.0.0.1 -U postgres lianxin_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lianxin_bench
    python manage.py migrate
    python manage.py bench_dispatch              # build, then time
    python manage.py bench_dispatch --no-build --explain

A thin command over the same builder as ``bench`` rather than a ``--only``
of it: its options (sizes given one by one, always a fresh build unless
``--no-build``) and its columns (SQL and CPU per ranking) are the ones the
dispatch rounds of docs/performance.md were measured with. The figures are
recorded there.
"""

import argparse
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from requests.bench import build, rankings


class Command(BaseCommand):
    help = (
        "Build a city-size data set (volunteers, merchants, teams, orders) on a bench "
        "database and time the dispatch ranking (issue 8: median <= 20 ms)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--volunteers", type=int, default=157_000)
        parser.add_argument("--orders", type=int, default=5_000_000)
        parser.add_argument("--merchants", type=int, default=2_000)
        parser.add_argument("--samples", type=int, default=30, help="orders ranked and timed")
        parser.add_argument(
            "--limit",
            type=int,
            default=50,
            help="volunteers ranked per order (50, the default of volunteer_candidates; the "
            "order page asks for 10, an offer ring for OFFER_SIZE)",
        )
        parser.add_argument(
            "--build",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="empty the tables and build the data set first (default); "
            "--no-build times the data already there",
        )
        parser.add_argument(
            "--explain",
            action="store_true",
            help="print EXPLAIN (ANALYZE, BUFFERS) of each ranking's slowest query",
        )
        parser.add_argument("--seed", type=float, default=0.96345, help="the data's seed")
        parser.add_argument(
            "--jobs",
            type=int,
            default=2,
            help="connections loading orders and rebuilding indexes at once (default 2)",
        )
        parser.add_argument(
            "--i-know-this-is-a-test-database",
            dest="test_database",
            action="store_true",
            help="allow a database named test_* (the test suite's)",
        )

    def handle(self, *args, **opts):
        try:
            name = build.check_database(
                test_database=opts["test_database"], command="bench_dispatch"
            )
        except build.BenchError as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout.write
        out(f"Database {name}; {build.machine()}")
        if opts["build"]:
            # The city's other sizes follow the orders (residents, timeline ...).
            scale = opts["orders"] / 5_000_000
            sizes = build.Sizes.for_scale(
                scale,
                volunteers=opts["volunteers"],
                merchants=opts["merchants"],
                orders=opts["orders"],
            )
            started = time.perf_counter()
            build.Builder(sizes=sizes, seed=opts["seed"], out=out, jobs=opts["jobs"]).build(scale)
            out(f"Built in {time.perf_counter() - started:.0f} s.")
        out(self._sizes())
        try:
            orders = rankings.sample_orders(opts["samples"])
        except build.BenchError as exc:
            raise CommandError(str(exc)) from exc
        rankings.time_rankings(orders, out=out, explain=opts["explain"], limit=opts["limit"])

    def _sizes(self) -> str:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT kind, count(*) FROM volunteers_provider GROUP BY kind ORDER BY kind"
            )
            kinds = ", ".join(f"{n:,} {kind}s" for kind, n in cur.fetchall())
            cur.execute("SELECT count(*) FROM requests_servicerequest")
            orders = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM center_station")
            stations = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM volunteers_provideritem")
            can_do = cur.fetchone()[0]
        return (
            f"Data: {stations:,} stations, {kinds or 'no providers'} ({can_do:,} rows of "
            f"what they can do), {orders:,} orders."
        )
