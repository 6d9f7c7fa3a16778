"""Issue 8's benchmark: rank one order at city size (157k volunteers, 5M orders).

Builds a city's worth of data with set-based SQL (``INSERT ... SELECT
generate_series``, minutes rather than hours), then times
``dispatch.volunteer_candidates``, ``merchant_candidates`` and
``team_candidates`` for orders sampled across the stations. It writes only to
a PostgreSQL database whose name contains "bench" (it empties the tables it
fills), or to a test database when told so::

    createdb -h 127.0.0.1 -U postgres lianxin_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lianxin_bench
    python manage.py migrate
    python manage.py bench_dispatch              # build, then time
    python manage.py bench_dispatch --no-build --explain

The figures are recorded in docs/performance.md.
"""

import argparse
import datetime
import math
import os
import statistics
import time
from contextlib import contextmanager
from functools import partial

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from center.demo import jiaxing
from center.demo.seed import seed_catalogue
from center.models import Station
from requests import dispatch
from requests.models import ServiceRequest

# Jiaxing's box; the two urban districts are denser (their streets lie near
# the district centre), the others spread further and are kept in the box.
LAT_MIN, LAT_MAX, LNG_MIN, LNG_MAX = 30.60, 30.95, 120.50, 121.10
URBAN = {"330402": 0.06, "330411": 0.06}
RURAL_SPREAD = 0.12
COMMUNITIES_PER_STREET = 15  # 72 streets: 1,080 communities, one service point each
TEAMS_PER_BRANCH = 5
ITEMS_PER_MERCHANT = 10
CHUNK = 500_000

# Emptied (RESTART IDENTITY CASCADE) before a build; bench users are deleted.
TABLES = [
    "requests_servicerequest",
    "requests_resident",
    "volunteers_availabilityslot",
    "volunteers_provideritem",
    "volunteers_provider",
    "volunteers_serviceteam",
    "volunteers_merchantoffer",
    "volunteers_merchant",
    "volunteers_volunteer",
    "center_station",
    "center_area",
]
TEMP_TABLES = ["bench_st", "bench_vp", "bench_mp", "bench_tp", "bench_items", "bench_res"]
BENCH_PASSWORD = "!bench"  # an unusable password hash: these logins cannot log in

HOW_TO = (
    "Run it on its own PostgreSQL database, whose name contains 'bench':\n"
    "  createdb -h 127.0.0.1 -U postgres lianxin_bench\n"
    "  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lianxin_bench\n"
    "  python manage.py migrate && python manage.py bench_dispatch"
)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


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
        parser.add_argument("--seed", type=float, default=0.96345, help="setseed() for the data")
        parser.add_argument(
            "--i-know-this-is-a-test-database",
            dest="test_database",
            action="store_true",
            help="allow a database named test_* (the test suite's)",
        )

    # --- guard ---------------------------------------------------------------

    def _check_database(self, test_database: bool) -> str:
        name = connection.settings_dict["NAME"] or ""
        if connection.vendor != "postgresql":
            raise CommandError(
                f"bench_dispatch needs PostgreSQL, not {connection.vendor}.\n{HOW_TO}"
            )
        if "bench" in name or (test_database and name.startswith("test_")):
            return name
        raise CommandError(
            f"Refusing to write to database {name!r}: this command empties the tables it "
            f"fills.\n{HOW_TO}"
        )

    def handle(self, *args, **opts):
        name = self._check_database(opts["test_database"])
        self.out = self.stdout.write
        self.out(f"Database {name}; {self._machine()}")
        if opts["build"]:
            started = time.perf_counter()
            self.build(opts["volunteers"], opts["orders"], opts["merchants"], opts["seed"])
            self.out(f"Built in {time.perf_counter() - started:.0f} s.")
        self.out(self._sizes())
        self.bench(opts["samples"], opts["explain"], opts["limit"])

    def _machine(self) -> str:
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            cur.execute("SHOW shared_buffers")
            buffers = cur.fetchone()[0]
        load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
        return f"PostgreSQL {version}, shared_buffers {buffers}, {os.cpu_count()} CPU(s){load}"

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

    # --- build ---------------------------------------------------------------

    @contextmanager
    def _step(self, label: str):
        started = time.perf_counter()
        yield
        self.out(f"  {label}: {time.perf_counter() - started:.1f} s")

    def build(self, n_volunteers: int, n_orders: int, n_merchants: int, seed: float) -> None:
        with connection.cursor() as cur:
            self.cur = cur
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            superuser = cur.fetchone()[0]
            cur.execute("SET maintenance_work_mem = '512MB'")
            cur.execute("SET work_mem = '64MB'")
            if superuser:
                # The rows are consistent by construction: skip the per-row FK triggers.
                cur.execute("SET session_replication_role = replica")
            try:
                self._build(n_volunteers, n_orders, n_merchants, seed)
            finally:
                cur.execute("RESET session_replication_role")
                cur.execute("RESET work_mem")
                cur.execute("RESET maintenance_work_mem")

    def sql(self, query: str, params=()) -> int:
        # Always with parameters (even none): "%%" then means "%" in every query.
        self.cur.execute(query, params)
        return self.cur.rowcount

    def _build(self, n_volunteers: int, n_orders: int, n_merchants: int, seed: float) -> None:
        sql = self.sql
        with self._step("emptied"):
            sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            sql("DELETE FROM center_user WHERE password = %s", [BENCH_PASSWORD])
            sql(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
            sql("SELECT setseed(%s)", [seed])
        with self._step("areas, stations, catalogue"):
            self._areas()
            self._stations()
            seed_catalogue()
        with self._step(
            f"{n_volunteers:,} volunteers, providers, items, specialties, what they can do, hours"
        ):
            self._volunteers(n_volunteers)
        with self._step("teams and their leaders' logins"):
            self._teams()
        with self._step(f"{n_merchants:,} merchants, offers, stations served"):
            self._merchants(n_merchants)
        with self._step(f"{n_orders:,} orders"):
            self._orders(n_orders)
        with self._step("open orders and last taken, per provider"):
            self._recount()
        with self._step("VACUUM ANALYZE" if not connection.in_atomic_block else "ANALYZE"):
            sql(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
            if connection.in_atomic_block:  # the test suite: no VACUUM in a transaction
                sql("ANALYZE")
            else:
                sql("VACUUM (ANALYZE)")

    def _areas(self) -> None:
        districts = [(code, name) for code, name, _c, _s in jiaxing.DISTRICTS]
        streets = [
            (f"{code}{i:03d}", street, code)
            for code, _n, _c, names in jiaxing.DISTRICTS
            for i, street in enumerate(names, start=1)
        ]
        self.sql(
            "INSERT INTO center_area (code, name, level) "
            "SELECT c, n, 'district' FROM unnest(%s::text[], %s::text[]) AS t(c, n)",
            [[d[0] for d in districts], [d[1] for d in districts]],
        )
        self.sql(
            "INSERT INTO center_area (code, name, level, parent_id) "
            "SELECT s.c, s.n, 'street', d.id "
            "FROM unnest(%s::text[], %s::text[], %s::text[]) AS s(c, n, dc) "
            "JOIN center_area d ON d.code = s.dc",
            [[s[0] for s in streets], [s[1] for s in streets], [s[2] for s in streets]],
        )
        # Community names: a stem (distinct within the street) and 社区 or 村.
        self.sql(
            """
            INSERT INTO center_area (code, name, level, parent_id)
            SELECT st.code || lpad(k::text, 3, '0'),
                   (%(stems)s::text[])[1 + (st.id * 7 + k * 5) %% cardinality(%(stems)s::text[])]
                   || CASE WHEN right(st.name, 2) = '街道' THEN '社区' ELSE '村' END,
                   'community', st.id
            FROM center_area st, generate_series(1, %(per)s) k
            WHERE st.level = 'street'
            """,
            {"stems": jiaxing.COMMUNITY_STEMS, "per": COMMUNITIES_PER_STREET},
        )

    def _stations(self) -> None:
        sql = self.sql
        sql(
            """
            INSERT INTO center_station (code, name, kind, address, latitude, longitude, phone,
                opening_hours, is_active, created_at, updated_at, district_id)
            SELECT 'JX-CENTER', '嘉兴市党员志愿服务中心', 'center', '南湖区中山东路 96345 号',
                   30.752, 120.758, '+8657396345000', '24小时', true, now(), now(), d.id
            FROM center_area d WHERE d.code = '330402'
            """
        )
        centres = {code: centre for code, _n, centre, _s in jiaxing.DISTRICTS}
        codes = list(centres)
        sql(
            """
            INSERT INTO center_station (code, name, kind, address, latitude, longitude, phone,
                opening_hours, is_active, created_at, updated_at, district_id, parent_id)
            SELECT 'BR-' || st.code, st.name || '分站', 'branch', d.name || st.name || '便民服务中心',
                   round(least(greatest(c.lat + (random() * 2 - 1) * c.spread, %(lat0)s), %(lat1)s)
                         ::numeric, 6),
                   round(least(greatest(c.lng + (random() * 2 - 1) * c.spread, %(lng0)s), %(lng1)s)
                         ::numeric, 6),
                   '', '08:00-20:00', true, now(), now(), d.id,
                   (SELECT id FROM center_station WHERE code = 'JX-CENTER')
            FROM center_area st
            JOIN center_area d ON d.id = st.parent_id
            JOIN unnest(%(codes)s::text[], %(lats)s::float8[], %(lngs)s::float8[],
                        %(spreads)s::float8[]) AS c(code, lat, lng, spread) ON c.code = d.code
            WHERE st.level = 'street'
            ORDER BY st.code
            """,
            {
                "codes": codes,
                "lats": [centres[c][0] for c in codes],
                "lngs": [centres[c][1] for c in codes],
                "spreads": [URBAN.get(c, RURAL_SPREAD) for c in codes],
                "lat0": LAT_MIN,
                "lat1": LAT_MAX,
                "lng0": LNG_MIN,
                "lng1": LNG_MAX,
            },
        )
        # One service point (社区) or village station (村) per community, within ~2 km
        # of its branch; the branch serves all its street's communities.
        sql(
            """
            INSERT INTO center_station (code, name, kind, address, latitude, longitude, phone,
                opening_hours, is_active, created_at, updated_at, district_id, parent_id)
            SELECT 'SP-' || c.code,
                   c.name || CASE WHEN right(c.name, 2) = '社区' THEN '服务站点' ELSE '村级服务站' END,
                   CASE WHEN right(c.name, 2) = '社区' THEN 'service_point' ELSE 'village' END,
                   st.name || c.name || '党群服务中心',
                   round((b.latitude + (random() * 2 - 1) * 0.018)::numeric, 6),
                   round((b.longitude + (random() * 2 - 1) * 0.021)::numeric, 6),
                   '', '08:30-17:00', true, now(), now(), b.district_id, b.id
            FROM center_area c
            JOIN center_area st ON st.id = c.parent_id
            JOIN center_station b ON b.code = 'BR-' || st.code
            WHERE c.level = 'community'
            ORDER BY c.code
            """
        )
        sql(
            """
            INSERT INTO center_station_communities (station_id, area_id)
            SELECT s.id, c.id FROM center_station s
            JOIN center_area c ON c.code = substr(s.code, 4)
            WHERE s.kind IN ('service_point', 'village')
            UNION ALL
            SELECT b.id, c.id FROM center_station b
            JOIN center_area c ON c.parent_id = (SELECT id FROM center_area
                                                 WHERE code = substr(b.code, 4))
            WHERE b.kind = 'branch'
            """
        )
        # Home stations of volunteers and merchants: every station but the center.
        sql(
            """
            CREATE TEMP TABLE bench_st AS
            SELECT row_number() OVER (ORDER BY s.id)::int AS rn, s.id, s.parent_id,
                   s.latitude::float8 AS lat, s.longitude::float8 AS lng,
                   (SELECT area_id FROM center_station_communities sc
                    WHERE sc.station_id = s.id AND s.kind <> 'branch' LIMIT 1) AS community_id
            FROM center_station s WHERE s.kind <> 'center'
            """
        )
        sql("CREATE UNIQUE INDEX ON bench_st (rn)")

    def _volunteers(self, n: int) -> None:
        sql = self.sql
        nst = self._count("bench_st")
        # ~1.3 km around the home station; 40% on duty; 1.5% suspended (half of
        # them past the end date, so eligible again), 0.5% removed.
        sql(
            """
            INSERT INTO volunteers_volunteer (volunteer_no, name, mobile, is_party_member,
                party_branch, kind, latitude, longitude, on_duty, weekly_availability, status,
                suspended_until, verified_hours, rating, created_at, updated_at, community_id,
                station_id)
            SELECT 'JX' || lpad(r.g::text, 9, '0'), '志愿者' || r.g, '13' || lpad(r.g::text, 9, '0'),
                   true, '', 'community',
                   round((s.lat + (r.a * 2 - 1) * 0.012)::numeric, 6),
                   round((s.lng + (r.b * 2 - 1) * 0.014)::numeric, 6),
                   r.c < 0.4, '{}'::jsonb,
                   CASE WHEN r.d < 0.015 THEN 'suspended' WHEN r.d < 0.02 THEN 'removed'
                        ELSE 'active' END,
                   CASE WHEN r.d < 0.0075 THEN current_date + 30
                        WHEN r.d < 0.015 THEN current_date - 3 END,
                   round((r.c * 300)::numeric, 2), round((4 + r.a)::numeric, 2),
                   now() - r.b * interval '1000 days', now(), s.community_id, s.id
            FROM (SELECT g, 1 + floor(random() * %(nst)s)::int AS k,
                         random() AS a, random() AS b, random() AS c, random() AS d
                  FROM generate_series(1, %(n)s) g) r
            JOIN bench_st s ON s.rn = r.k
            ORDER BY r.g
            """,
            {"n": n, "nst": nst},
        )
        sql(
            """
            INSERT INTO volunteers_provider (kind, volunteer_id, name, user_id, station_id,
                latitude, longitude, on_duty, status, suspended_until, rating, open_orders)
            SELECT 'volunteer', v.id, v.name, v.user_id, v.station_id, v.latitude::float8,
                   v.longitude::float8, v.on_duty, v.status, v.suspended_until, v.rating, 0
            FROM volunteers_volunteer v ORDER BY v.id
            """
        )
        # 1-3 service items each, 60% with one specialty.
        sql(
            """
            INSERT INTO volunteers_volunteer_service_items (volunteer_id, serviceitem_id)
            SELECT v.id, it.a[1 + (v.b + k * 41) %% it.n]
            FROM (SELECT id, floor(random() * 1000000)::int AS b,
                         1 + floor(random() * 3)::int AS m FROM volunteers_volunteer) v
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS a, count(*)::int AS n
                        FROM center_serviceitem) it
            CROSS JOIN LATERAL generate_series(1, v.m) k
            ON CONFLICT DO NOTHING
            """
        )
        sql(
            """
            INSERT INTO volunteers_volunteer_specialties (volunteer_id, specialty_id)
            SELECT v.id, sp.a[1 + floor(v.r / 0.6 * sp.n)::int]
            FROM (SELECT id, random() AS r FROM volunteers_volunteer) v
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS a, count(*)::int AS n
                        FROM center_specialty) sp
            WHERE v.r < 0.6
            """
        )
        # What each can do, for dispatch (as ProviderItem.refresh): the items listed
        # and the items of their specialties, with the provider's station and location.
        sql(
            """
            INSERT INTO volunteers_provideritem (provider_id, item_id, station_id, latitude,
                longitude)
            SELECT p.id, w.item_id, p.station_id, p.latitude, p.longitude
            FROM (SELECT volunteer_id, serviceitem_id AS item_id
                  FROM volunteers_volunteer_service_items
                  UNION
                  SELECT vs.volunteer_id, i.id FROM volunteers_volunteer_specialties vs
                  JOIN center_serviceitem i ON i.specialty_id = vs.specialty_id) w
            JOIN volunteers_provider p ON p.volunteer_id = w.volunteer_id
            WHERE p.kind = 'volunteer'
            ORDER BY p.id, w.item_id
            """
        )
        # One in ten has weekly hours: three days, 08:00-12:00 and 14:00-18:00.
        sql(
            """
            INSERT INTO volunteers_availabilityslot (provider_id, weekday, start_minute, end_minute)
            SELECT p.id, (p.id + d) %% 7, per.s, per.e
            FROM volunteers_provider p, (VALUES (0), (2), (4)) AS dd(d),
                 (VALUES (480, 720), (840, 1080)) AS per(s, e)
            WHERE p.kind = 'volunteer' AND p.id %% 10 = 0
            """
        )
        sql(
            """
            UPDATE volunteers_volunteer v SET weekly_availability = w.j
            FROM (SELECT p.volunteer_id,
                         jsonb_object_agg((ARRAY['mon','tue','wed','thu','fri','sat','sun'])
                                          [1 + (p.id + d) %% 7],
                                          '[["08:00", "12:00"], ["14:00", "18:00"]]'::jsonb) AS j
                  FROM volunteers_provider p, (VALUES (0), (2), (4)) AS dd(d)
                  WHERE p.kind = 'volunteer' AND p.id %% 10 = 0
                  GROUP BY p.volunteer_id) w
            WHERE v.id = w.volunteer_id
            """
        )

    def _teams(self) -> None:
        sql = self.sql
        # Five specialty teams per branch, one per specialty at the center, led
        # by the first active volunteer of the branch (or its service points).
        sql(
            """
            CREATE TEMP TABLE bench_leader AS
            SELECT DISTINCT ON (b.id) b.id AS station_id, v.id AS volunteer_id
            FROM center_station b
            JOIN center_station s ON s.id = b.id OR s.parent_id = b.id
            JOIN volunteers_volunteer v ON v.station_id = s.id AND v.status = 'active'
            WHERE b.kind = 'branch'
            ORDER BY b.id, v.id
            """
        )
        sql(
            """
            INSERT INTO bench_leader
            SELECT c.id, (SELECT min(id) FROM volunteers_volunteer WHERE status = 'active')
            FROM center_station c WHERE c.kind = 'center'
            """
        )
        sql(
            """
            INSERT INTO center_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, mobile, full_name, role)
            SELECT DISTINCT %s, false, v.volunteer_no, '', '', '', false, true, now(), v.mobile,
                   v.name, 'volunteer'
            FROM bench_leader l JOIN volunteers_volunteer v ON v.id = l.volunteer_id
            """,
            [BENCH_PASSWORD],
        )
        sql(
            "UPDATE volunteers_volunteer v SET user_id = u.id FROM center_user u "
            "WHERE u.username = v.volunteer_no AND u.password = %s",
            [BENCH_PASSWORD],
        )
        sql(
            "UPDATE volunteers_provider p SET user_id = v.user_id FROM volunteers_volunteer v "
            "WHERE p.volunteer_id = v.id AND v.user_id IS NOT NULL"
        )
        sql(
            """
            INSERT INTO volunteers_serviceteam (name, kind, is_active, created_at, specialty_id,
                station_id, leader_id)
            SELECT s.name || sp.a[1 + (s.id::int * 7 + k) %% sp.n], 'specialty', true, now(),
                   sp.i[1 + (s.id::int * 7 + k) %% sp.n], s.id, l.volunteer_id
            FROM center_station s
            LEFT JOIN bench_leader l ON l.station_id = s.id
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS i, array_agg(name ORDER BY id) AS a,
                               count(*)::int AS n FROM center_specialty) sp
            CROSS JOIN LATERAL generate_series(1, CASE WHEN s.kind = 'center' THEN sp.n
                                                       ELSE %s END) k
            WHERE s.kind IN ('branch', 'center')
            """,
            [TEAMS_PER_BRANCH],
        )
        sql(
            """
            INSERT INTO volunteers_provider (kind, team_id, name, user_id, station_id, latitude,
                longitude, on_duty, status, rating, open_orders)
            SELECT 'team', t.id, t.name, v.user_id, t.station_id, s.latitude::float8,
                   s.longitude::float8, t.is_active, 'active', 5.00, 0
            FROM volunteers_serviceteam t
            JOIN center_station s ON s.id = t.station_id
            LEFT JOIN volunteers_volunteer v ON v.id = t.leader_id
            """
        )
        sql("DROP TABLE bench_leader")

    def _merchants(self, n: int) -> None:
        nst = self._count("bench_st")
        self.sql(
            """
            WITH r AS MATERIALIZED (
                SELECT g, 1 + floor(random() * %(nst)s)::int AS k, random() AS a, random() AS b
                FROM generate_series(1, %(n)s) g
            ), m AS (
                INSERT INTO volunteers_merchant (name, kind, licence_no, contact_name, mobile,
                    address, staff_count, status, rating, created_at, updated_at, latitude,
                    longitude)
                SELECT '便民服务社' || r.g,
                       CASE WHEN r.g %% 3 = 0 THEN 'franchise' ELSE 'individual' END,
                       'BENCH' || lpad(r.g::text, 12, '0'), '联系人' || r.g,
                       '15' || lpad(r.g::text, 9, '0'), '门店' || r.g || '号', 1 + r.g %% 10,
                       'active', round((4 + r.a)::numeric, 2), now(), now(),
                       round((s.lat + (r.a * 2 - 1) * 0.01)::numeric, 6),
                       round((s.lng + (r.b * 2 - 1) * 0.012)::numeric, 6)
                FROM r JOIN bench_st s ON s.rn = r.k
                RETURNING id, licence_no
            )
            INSERT INTO volunteers_merchant_stations (merchant_id, station_id)
            SELECT DISTINCT m.id, x.station_id
            FROM m
            JOIN r ON m.licence_no = 'BENCH' || lpad(r.g::text, 12, '0')
            JOIN bench_st s ON s.rn = r.k
            CROSS JOIN LATERAL (VALUES (s.id), (s.parent_id)) AS x(station_id)
            WHERE x.station_id IS NOT NULL
            """,
            {"n": n, "nst": nst},
        )
        self.sql(
            """
            INSERT INTO volunteers_merchantoffer (merchant_id, item_id, price)
            SELECT m.id, it.i[1 + (m.b + k * 13) %% it.n],
                   round(it.p[1 + (m.b + k * 13) %% it.n] * (0.8 + 0.2 * m.c)::numeric, 2)
            FROM (SELECT id, floor(random() * 1000000)::int AS b, random() AS c
                  FROM volunteers_merchant) m
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS i,
                               array_agg(center_price ORDER BY id) AS p, count(*)::int AS n
                        FROM center_serviceitem) it
            CROSS JOIN generate_series(1, %s) k
            ON CONFLICT DO NOTHING
            """,
            [ITEMS_PER_MERCHANT],
        )
        self.sql(
            """
            INSERT INTO volunteers_provider (kind, merchant_id, name, latitude, longitude,
                on_duty, status, suspended_until, rating, open_orders)
            SELECT 'merchant', m.id, m.name, m.latitude::float8, m.longitude::float8, true,
                   m.status, m.suspended_until, m.rating, 0
            FROM volunteers_merchant m ORDER BY m.id
            """
        )

    def _orders(self, n: int) -> None:
        sql = self.sql
        residents = max(100, n // 25)
        sql(
            """
            INSERT INTO requests_resident (name, address, is_free, notes, created_at,
                community_id)
            SELECT '居民' || g, '住址' || g || '号', g %% 20 = 0, '', now(),
                   c.a[1 + floor(random() * c.n)::int]
            FROM generate_series(1, %s) g
            CROSS JOIN (SELECT array_agg(id) AS a, count(*)::int AS n FROM center_area
                        WHERE level = 'community') c
            """,
            [residents],
        )
        for table, query in [
            (
                "bench_vp",
                "SELECT p.id, p.station_id, p.latitude AS lat, p.longitude AS lng, "
                "s.community_id FROM volunteers_provider p "
                "JOIN bench_st s ON s.id = p.station_id WHERE p.kind = 'volunteer'",
            ),
            ("bench_mp", "SELECT id FROM volunteers_provider WHERE kind = 'merchant'"),
            ("bench_tp", "SELECT id FROM volunteers_provider WHERE kind = 'team'"),
            (
                "bench_items",
                "SELECT id, center_price, typical_minutes FROM center_serviceitem",
            ),
            ("bench_res", "SELECT id FROM requests_resident"),
        ]:
            sql(
                f"CREATE TEMP TABLE {table} AS "
                f"SELECT row_number() OVER (ORDER BY id)::int AS rn, q.* FROM ({query}) q"
            )
            sql(f"CREATE UNIQUE INDEX ON {table} (rn)")
            sql(f"ANALYZE {table}")
        counts = {t: self._count(t) for t in ("bench_vp", "bench_mp", "bench_tp", "bench_items")}
        counts["bench_res"] = residents
        # The secondary indexes are built once after the load (much faster than
        # maintaining sixteen of them row by row), in the same definitions.
        sql(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = 'requests_servicerequest'::regclass
              AND NOT x.indisunique AND NOT x.indisprimary
            """
        )
        indexes = self.cur.fetchall()
        for name, _definition in indexes:
            sql(f'DROP INDEX "{name}"')
        try:
            for lo in range(1, n + 1, CHUNK):
                hi = min(n, lo + CHUNK - 1)
                started = time.perf_counter()
                sql(ORDERS_SQL, {"lo": lo, "hi": hi, **{k[6:]: v for k, v in counts.items()}})
                self.out(f"    orders {hi:,} ({time.perf_counter() - started:.1f} s)")
        finally:
            started = time.perf_counter()
            for _name, definition in indexes:
                sql(definition)
            self.out(f"    {len(indexes)} order indexes ({time.perf_counter() - started:.1f} s)")

    def _recount(self) -> None:
        """``requests.services.provider_load_recount`` as two set-based updates."""
        open_statuses = [str(s) for s in ServiceRequest.OPEN]
        self.sql(
            """
            UPDATE volunteers_provider p SET open_orders = c.n
            FROM (SELECT provider_id, count(*) AS n FROM requests_servicerequest
                  WHERE status = ANY(%s) AND provider_id IS NOT NULL GROUP BY provider_id) c
            WHERE p.id = c.provider_id
            """,
            [open_statuses],
        )
        self.sql(
            """
            UPDATE volunteers_provider p SET last_taken_at = c.m
            FROM (SELECT provider_id, max(taken_at) AS m FROM requests_servicerequest
                  WHERE provider_id IS NOT NULL AND taken_at IS NOT NULL GROUP BY provider_id) c
            WHERE p.id = c.provider_id
            """
        )

    def _count(self, table: str) -> int:
        self.cur.execute(f"SELECT count(*) FROM {table}")
        return self.cur.fetchone()[0]

    # --- timing --------------------------------------------------------------

    def _sample_orders(self, samples: int) -> list[ServiceRequest]:
        """One order at each of ``samples`` stations spread evenly over the
        stations; every third one wants a time tomorrow (weekly hours then, not
        being on duty, decide)."""
        stations = list(
            Station.objects.exclude(kind=Station.Kind.CENTER)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not stations:
            raise CommandError("No data: run with --build first.")
        step = max(1, len(stations) // max(samples, 1))
        orders, i = [], 0
        while len(orders) < samples and i < len(stations) * 2:
            station_id = stations[(i * step + i // len(stations)) % len(stations)]
            i += 1
            order = (
                ServiceRequest.objects.filter(station_id=station_id)
                .select_related("item", "station")
                .order_by("-received_at")
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

    def _backend_cpu(self):
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

    def bench(self, samples: int, explain: bool, limit: int = 50) -> None:
        orders = self._sample_orders(samples)
        rankings = [
            ("volunteer_candidates", partial(dispatch.volunteer_candidates, limit=limit)),
            ("merchant_candidates", dispatch.merchant_candidates),
            ("team_candidates", dispatch.team_candidates),
        ]
        for _name, rank in rankings:  # warm the caches once, untimed
            for order in orders:
                rank(order)
        backend_cpu = self._backend_cpu()
        self.out(
            f"Ranking {len(orders)} orders at {len(orders)} stations "
            f"(one in three for tomorrow 10:00; the first {limit} volunteers), after one "
            f"untimed pass; ms per ranking "
            f"(wall clock; SQL: in the database calls; CPU: this process and its database "
            f"backend on the CPU, what a ranking costs on an idle machine):"
        )
        self.out(
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
                    server = backend_cpu() if backend_cpu else 0
                    client = time.process_time_ns()
                    started = time.perf_counter()
                    found = len(rank(order))
                    ms = (time.perf_counter() - started) * 1000
                    cpu = time.process_time_ns() - client
                    cpu += (backend_cpu() - server) if backend_cpu else 0
                runs.append((ms, queries, found, order, cpu / 1e6))
            totals = [r[0] for r in runs]
            sql_ms = [sum(q[0] for q in r[1]) for r in runs]
            cpu_ms = [r[4] for r in runs]
            counts = sorted({len(r[1]) for r in runs})
            cpu = (
                f"{statistics.median(cpu_ms):>9.1f}{_pct(cpu_ms, 0.9):>9.1f}"
                if backend_cpu
                else f"{'-':>9}{'-':>9}"
            )
            self.out(
                f"  {name:<22}{statistics.median(totals):>8.1f}{_pct(totals, 0.9):>8.1f}"
                f"{max(totals):>8.1f}{statistics.median(sql_ms):>9.1f}{cpu}"
                f"{'/'.join(map(str, counts)):>9}{statistics.median(r[2] for r in runs):>7.0f}"
            )
            if explain:
                slowest = max(runs, key=lambda r: r[0])
                _ms, sql, params = max(slowest[1], key=lambda q: q[0])
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    plan = "\n".join(f"      {row[0]}" for row in cur.fetchall())
                self.out(
                    f"    slowest: order {slowest[3].number} at station {slowest[3].station_id}, "
                    f"{slowest[0]:.1f} ms; its slowest query:\n      {sql}\n{plan}"
                )


# One chunk of orders: each is placed at a random volunteer's home (so orders
# follow where people live), over the last two years. Older than three days:
# archived (95%) or cancelled; one to three days: some still await the
# follow-up call; the last day: every open status. Providers: the volunteer
# (88%), a merchant (10%) or a team (2%); none for received and cancelled.
ORDERS_SQL = """
INSERT INTO requests_servicerequest (number, kind, channel, urgency, status, caller_phone,
    description, address, latitude, longitude, quoted_price, fee_waived, mode, offer_ring,
    received_at, dispatched_at, taken_at, on_the_way_at, arrived_at, completed_at,
    followed_up_at, archived_at, cancelled_at, response_seconds, arrival_seconds, urge_count,
    repeat_calls, reopen_count, work_notes, fee_charged, fee_reason, community_id, item_id,
    resident_id, station_id, arrival_unreported, dispatch_round, provider_id)
SELECT 'GD' || to_char(o.at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(o.g::text, 8, '0'),
       'help', CASE WHEN o.a < 0.8 THEN 'hotline' WHEN o.a < 0.9 THEN 'device' ELSE 'walk_in' END,
       CASE WHEN o.b < 0.02 THEN 'emergency' WHEN o.b < 0.1 THEN 'urgent' ELSE 'normal' END,
       o.status, '138' || lpad(o.rk::text, 8, '0'), '', '住址' || o.rk || '号',
       round((o.lat + (o.a * 2 - 1) * 0.008)::numeric, 6),
       round((o.lng + (o.b * 2 - 1) * 0.009)::numeric, 6),
       o.price, false, CASE WHEN o.step >= 1 THEN 'assign' ELSE '' END, 0,
       o.at,
       CASE WHEN o.step >= 1 THEN o.at + interval '1 minute' END,
       CASE WHEN o.step >= 2 THEN o.taken END,
       CASE WHEN o.step >= 3 THEN o.taken + interval '2 minutes' END,
       CASE WHEN o.step >= 4 THEN o.arrived END,
       CASE WHEN o.step >= 5 THEN o.arrived + o.minutes * interval '1 minute' END,
       CASE WHEN o.step >= 6 THEN o.arrived + interval '1 day' END,
       CASE WHEN o.step >= 6 THEN o.arrived + interval '1 day' END,
       CASE WHEN o.step = -1 THEN o.at + interval '20 minutes' END,
       CASE WHEN o.step >= 2 THEN extract(epoch FROM o.taken - o.at)::int END,
       CASE WHEN o.step >= 4 THEN extract(epoch FROM o.arrived - o.taken)::int END,
       0, 0, 0, '', CASE WHEN o.step >= 5 THEN o.price END, '', o.community_id, o.item_id,
       o.resident_id, o.station_id, false, 0,
       CASE WHEN o.step < 1 THEN NULL WHEN o.who < 0.88 THEN o.vp_id
            WHEN o.who < 0.98 THEN o.mp_id ELSE o.tp_id END
FROM (
    SELECT r.*, v.id AS vp_id, v.station_id, v.community_id, v.lat, v.lng, m.id AS mp_id,
           t.id AS tp_id, i.id AS item_id, i.center_price AS price, i.typical_minutes AS minutes,
           res.id AS resident_id,
           r.at + (60 + r.b * 540) * interval '1 second' AS taken,
           r.at + (360 + r.b * 540 + r.a * 1200) * interval '1 second' AS arrived,
           CASE WHEN r.age > 3 THEN CASE WHEN r.s < 0.95 THEN 'archived' ELSE 'cancelled' END
                WHEN r.age > 1 THEN CASE WHEN r.s < 0.6 THEN 'archived'
                                         WHEN r.s < 0.95 THEN 'completed' ELSE 'cancelled' END
                ELSE CASE WHEN r.s < 0.15 THEN 'received' WHEN r.s < 0.25 THEN 'dispatched'
                          WHEN r.s < 0.4 THEN 'taken' WHEN r.s < 0.5 THEN 'on_the_way'
                          WHEN r.s < 0.6 THEN 'arrived' WHEN r.s < 0.95 THEN 'completed'
                          ELSE 'cancelled' END
           END AS status
    FROM (
        SELECT g, now() - age * interval '1 day' AS at, age, vk, mk, tk, ik, rk, s, a, b, who
        FROM (
            SELECT g, random() * 730 AS age,
                   1 + floor(random() * %(vp)s)::int AS vk,
                   1 + floor(random() * greatest(%(mp)s, 1))::int AS mk,
                   1 + floor(random() * greatest(%(tp)s, 1))::int AS tk,
                   1 + floor(random() * %(items)s)::int AS ik,
                   1 + floor(random() * %(res)s)::int AS rk,
                   random() AS s, random() AS a, random() AS b, random() AS who
            FROM generate_series(%(lo)s, %(hi)s) g
        ) x
    ) r
    JOIN bench_vp v ON v.rn = r.vk
    JOIN bench_items i ON i.rn = r.ik
    JOIN bench_res res ON res.rn = r.rk
    LEFT JOIN bench_mp m ON m.rn = r.mk
    LEFT JOIN bench_tp t ON t.rn = r.tk
) q
CROSS JOIN LATERAL (
    SELECT q.*, CASE q.status WHEN 'cancelled' THEN -1 WHEN 'received' THEN 0
        WHEN 'dispatched' THEN 1 WHEN 'taken' THEN 2 WHEN 'on_the_way' THEN 3
        WHEN 'arrived' THEN 4 WHEN 'completed' THEN 5 ELSE 6 END AS step
) o
"""
