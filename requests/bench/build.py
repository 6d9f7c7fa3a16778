"""The city data set of the benchmarks (``manage.py bench``, ``bench_dispatch``).

Set-based SQL only (``INSERT ... SELECT generate_series``): stations over
Jiaxing's real districts and streets, volunteers, teams, merchants,
residents with their phones, five years of orders, complaints with their
follow-up calls and sanctions, and the timeline of the latest orders. The
secondary indexes (and unique constraints) of the big tables are dropped
first and rebuilt once the rows are in, from their own definitions in
``pg_index`` (so they are always the models' current ones); rebuilding them
checks the unique constraints, and PostgreSQL checks the ``CHECK``
constraints on every row (``check_constraints`` then confirms the models'
``Meta.constraints`` are all in the database).

It writes only to a database whose name contains "bench" (``check_database``);
it empties the tables it fills. The build is recorded in ``bench_marker``
(scale, seed, builder version, step times), so the next run at the same
scale and seed reuses it.
"""

import datetime
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from django.apps import apps
from django.db import connection, connections
from django.db.models import CheckConstraint, UniqueConstraint
from django.utils import timezone

from center.demo import jiaxing
from center.demo.seed import seed_catalogue
from requests.models import ServiceRequest

from . import sql as S
from . import sql_events as E

# Bump when the rows built change: a marker of another version is rebuilt.
BUILDER_VERSION = (
    9  # 8: the call log, unmatched requests, complaints' station (issue 14); 9: their words
)

# Jiaxing's box; the two urban districts are denser (their streets lie near
# the district centre), the others spread further and are kept in the box.
LAT_MIN, LAT_MAX, LNG_MIN, LNG_MAX = 30.60, 30.95, 120.50, 121.10
URBAN = {"330402": 0.06, "330411": 0.06}
RURAL_SPREAD = 0.12
COMMUNITIES_PER_STREET = 15  # 72 streets: 1,080 communities, one service point each
TEAMS_PER_BRANCH = 5
ITEMS_PER_MERCHANT = 10
CHUNK = 500_000  # orders per statement
YEARS = 5
COMPLAINT_RATE = 0.0105  # of archived orders: ~1% of all orders
IN_SERVICE_SHARE = 0.15  # volunteers who serve through their employer (双报到)
SPECIAL_SHARE = 0.10  # residents in the special-group registry
DISABILITY = ["vision", "hearing", "speech", "physical", "intellectual", "mental", "multiple"]
HEALTH = [
    "高血压，按时服药",
    "糖尿病，需控制饮食",
    "行动不便，使用轮椅",
    "听力下降，需大声说话",
    "术后康复中",
]
FOUND = [
    "身体尚好，情绪稳定",
    "厨房水龙头滴水，已报修",
    "需要代购药品",
    "家中灯泡损坏",
    "想理发",
    "一切正常",
]
WISH_TITLES = [
    "一台电饭煲",
    "冬天的棉被",
    "陪老人去医院复查",
    "修好家里的收音机",
    "一副老花镜",
    "轮椅",
    "陪聊一个下午",
    "一台微波炉",
]
TZ = "Asia/Shanghai"
STALL_SERVICES = [
    "家电维修",
    "磨刀",
    "理发",
    "义诊",
    "配钥匙",
    "法律咨询",
    "燃气缴费",
    "口腔检查",
    "养老咨询",
    "手机维修",
    "缝补衣物",
    "测血压",
]
ACTIVITY_TITLES = [
    "微心愿认领集中行动",
    "重阳节走访慰问",
    "防汛应急动员",
    "春节送温暖",
    "社区环境整治",
]

BENCH_PASSWORD = "!bench"  # an unusable password hash: these logins cannot log in
OPERATOR, CENTER_MANAGER, STATION_MANAGER = "bench-operator", "bench-center", "bench-station"

# Emptied (RESTART IDENTITY CASCADE) before a build; bench users are deleted.
TABLES = [
    "events_calendarfeed",
    "events_highlight",
    "events_eventphoto",
    "events_participation",
    "events_activity",
    "events_signup",
    "events_shift",
    "events_stall",
    "events_venue",
    "events_serviceday",
    "requests_orderevent",
    "requests_orderoffer",
    "requests_followup",
    "requests_devicecall",
    "requests_device",
    "requests_residentcontact",
    "requests_residentphone",
    "requests_wishadoption",
    "requests_microwish",
    "requests_careslot",
    "requests_carevisit",
    "requests_pairing",
    "requests_residentsensitive",
    "requests_residentconsent",
    "requests_residentgroup",
    "requests_servicerequest",
    "requests_resident",
    "volunteers_sanction",
    "volunteers_complaint",
    "volunteers_availabilityslot",
    "volunteers_provideritem",
    "volunteers_provider",
    "volunteers_serviceteam",
    "volunteers_merchantoffer",
    "volunteers_merchant",
    "volunteers_hoursentry",
    "volunteers_certificate",
    "volunteers_postclaim",
    "volunteers_post",
    "volunteers_volunteer",
    "volunteers_organization",
    "center_station",
    "center_area",
    "center_auditentry",
    "center_notification",
    "requests_ordermonthstat",
    "requests_unmatchedrequest",
    "requests_calllog",
]
# Loaded without their secondary indexes, rebuilt in the "indexes" step.
BIG_TABLES = [
    "requests_servicerequest",
    "requests_resident",
    "requests_residentphone",
    "requests_residentcontact",
    "requests_orderevent",
    "requests_followup",
    "center_auditentry",
    "volunteers_volunteer",
    "volunteers_volunteer_service_items",
    "volunteers_volunteer_specialties",
    "volunteers_provider",
    "volunteers_provideritem",
    "volunteers_availabilityslot",
    "requests_calllog",
    "requests_unmatchedrequest",
]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程沈"
)
GIVEN = list("秀英华玉兰桂芳明国建平志红文军海金云凤丽梅伟强春林荣德成永福宝娟琴珍霞敏静燕")
RELATIONS = ["女儿", "儿子", "老伴", "邻居", "社区网格员", "侄子"]
# The call log (issue 14, part A): calls a day city-wide (DOMAIN.md: 800+),
# the share that made an order (each an ``order`` call of a hotline order),
# and needs no catalogue item matched, a day.
CALLS_PER_DAY = 800
ORDER_CALL_SHARE = 0.6
UNMATCHED_PER_DAY = 30
TALK_SHARE = 0.1  # of the unmatched requests: suggestions from community talks
UNMATCHED_WORDS = [
    "代买药",
    "陪同就医",
    "宠物寄养",
    "代取快递",
    "上门理发",
    "教用智能手机",
    "搬家具上楼",
    "代缴有线电视费",
    "老年助餐点",
    "楼道灯维修",
    "陪老人聊天",
    "接送孩子放学",
]
TALK_MEETINGS = ["社区议事会", "居民恳谈会", "楼道议事会", "村民代表会"]
ENQUIRY_NOTES = ["问价格", "问上门时间", "咨询免费服务条件", "咨询一键通", "问服务日地点", ""]
COMPLAINTS = ["服务态度差", "迟到未提前告知", "收费高于报价", "维修后问题复现", "未按约定时间上门"]

HOW_TO = (
    "Run it on its own PostgreSQL database, whose name contains 'bench':\n"
    "  createdb -h 127.0.0.1 -U postgres lianxin_bench\n"
    "  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lianxin_bench\n"
    "  python manage.py migrate && python manage.py bench"
)


class BenchError(Exception):
    """A refusal or a missing data set, said to the person running the command."""


def check_database(*, test_database: bool, command: str) -> str:
    """The database's name, if the builder may empty it: PostgreSQL, named
    ``*bench*`` (or ``test_*`` with ``test_database``, the test suite's)."""
    name = connection.settings_dict["NAME"] or ""
    if connection.vendor != "postgresql":
        raise BenchError(f"{command} needs PostgreSQL, not {connection.vendor}.\n{HOW_TO}")
    if "bench" in name or (test_database and name.startswith("test_")):
        return name
    raise BenchError(
        f"Refusing to write to database {name!r}: this command empties the tables it "
        f"fills.\n{HOW_TO}"
    )


def machine() -> str:
    """One line: the database server and this machine's CPUs and load."""
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0].split()[0]
        cur.execute("SHOW shared_buffers")
        buffers = cur.fetchone()[0]
        cur.execute("SHOW jit")
        jit = cur.fetchone()[0]
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), ""
            )
    except OSError:
        pass
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (
        f"PostgreSQL {version} (shared_buffers {buffers}, jit {jit}), {os.cpu_count()} CPU(s)"
        f"{' ' + cpu if cpu else ''}{load}"
    )


@dataclass(frozen=True)
class Sizes:
    """How many rows of each kind; ``for_scale(1)`` is the city."""

    volunteers: int
    merchants: int
    residents: int
    orders: int
    organizations: int
    timeline_orders: int
    pairings: int
    wishes: int

    @classmethod
    def for_scale(cls, scale: float, **override) -> "Sizes":
        sizes = cls(
            volunteers=max(200, round(157_000 * scale)),
            merchants=max(10, round(2_000 * scale)),
            residents=max(100, round(300_000 * scale)),
            orders=max(1_000, round(5_000_000 * scale)),
            organizations=max(5, round(400 * scale)),
            timeline_orders=max(500, round(100_000 * scale)),
            pairings=max(20, round(14_000 * scale)),  # DOMAIN.md: 14,000 members paired
            wishes=max(50, round(20_000 * scale)),
        )
        return cls(**{**asdict(sizes), **override})


@dataclass
class Marker:
    scale: float
    seed: float
    version: int
    sizes: dict
    steps: list  # [label, seconds]
    built_at: datetime.datetime


def read_marker() -> Marker | None:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_marker')")
        if cur.fetchone()[0] is None:
            return None
        cur.execute("SELECT scale, seed, version, sizes, steps, built_at FROM bench_marker")
        row = cur.fetchone()
    if row is None:
        return None
    scale, seed, version, sizes, steps, built_at = row
    return Marker(
        float(scale),
        seed,
        version,
        sizes if isinstance(sizes, dict) else json.loads(sizes),
        steps if isinstance(steps, list) else json.loads(steps),
        built_at,
    )


def _hash_seed(seed: float) -> int:
    return int(round(seed * 1_000_000)) % 1_000_000


class Builder:
    """Builds the data set on the current connection; ``jobs`` > 1 loads the
    orders and rebuilds the indexes on that many connections at once (not in
    a transaction, e.g. the test database: one connection then)."""

    def __init__(self, *, sizes: Sizes, seed: float, out: Callable[[str], None], jobs: int = 1):
        self.sizes = sizes
        self.seed = seed
        self.useed = _hash_seed(seed)
        self.out = out
        self.jobs = 1 if connection.in_atomic_block else max(1, jobs)
        self.steps: list[tuple[str, float]] = []
        self.now = timezone.now().replace(microsecond=0)

    # --- plumbing ---------------------------------------------------------------------

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.steps.append((label, round(seconds, 1)))
        self.out(f"  {label}: {seconds:.1f} s")

    def sql(self, query: str, params=()) -> int:
        # Always with parameters (even none): "%%" then means "%" in every query.
        self.cur.execute(S.with_u(query, self.useed), params)
        return self.cur.rowcount

    def one(self, query: str, params=()):
        self.sql(query, params)
        return self.cur.fetchone()[0]

    def _count(self, table: str) -> int:
        return self.one(f"SELECT count(*) FROM {table}")

    def _session(self, cur) -> list[str]:
        """Session settings for loading; returns their names (to RESET)."""
        settings = {
            "maintenance_work_mem": "'512MB'",
            "work_mem": "'64MB'",
            "synchronous_commit": "off",
            "jit": "off",
            # One process per statement: plans stay simple and the same run to run.
            "max_parallel_workers_per_gather": "0",
        }
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cur.fetchone()[0]:
            # The rows are consistent by construction: skip the per-row FK triggers
            # (CHECK constraints still apply to every row).
            settings["session_replication_role"] = "replica"
            settings["wal_compression"] = "on"
        for name, value in settings.items():
            cur.execute(f"SET {name} = {value}")
        return list(settings)

    def _run_all(self, statements: list[tuple[str, object, str]], quiet_below: float = 0) -> None:
        """Run (query, params, label) statements, on ``jobs`` connections at once
        when allowed; each prints its label and time when done (if it took
        ``quiet_below`` seconds or more)."""

        def run(cur, query, params, label):
            started = time.perf_counter()
            cur.execute(S.with_u(query, self.useed), params)
            seconds = time.perf_counter() - started
            if seconds >= quiet_below:
                self.out(f"    {label} ({seconds:.1f} s)")

        if self.jobs == 1:
            for query, params, label in statements:
                run(self.cur, query, params, label)
            return

        def task(statement):
            conn = connections["default"]  # this thread's own connection
            try:
                with conn.cursor() as cur:
                    self._session(cur)
                    run(cur, *statement)
            finally:
                conn.close()

        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for future in [pool.submit(task, s) for s in statements]:
                future.result()

    # --- the build ----------------------------------------------------------------------

    def build(self, scale: float) -> list[tuple[str, float]]:
        with connection.cursor() as cur:
            self.cur = cur
            settings = self._session(cur)
            try:
                self._build()
                self._write_marker(scale)
            finally:
                for name in settings:
                    cur.execute(f"RESET {name}")
        return self.steps

    def _build(self) -> None:
        z = self.sizes
        sql = self.sql
        with self.step("emptied"):
            sql(
                "CREATE TABLE IF NOT EXISTS bench_marker (scale numeric, seed float8, "
                "version int, sizes jsonb, steps jsonb, built_at timestamptz)"
            )
            sql("DELETE FROM bench_marker")
            sql("SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NOT NULL", [TABLES])
            tables = [t for (t,) in self.cur.fetchall()]
            sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            sql(
                "DELETE FROM center_user_stations WHERE user_id IN "
                "(SELECT id FROM center_user WHERE password = %s)",
                [BENCH_PASSWORD],
            )
            sql("DELETE FROM center_user WHERE password = %s", [BENCH_PASSWORD])
            self._drop_temp()
        with self.step("indexes dropped"):
            self.indexes = self._drop_indexes(BIG_TABLES)
        with self.step("areas, stations, catalogue, staff logins"):
            self._areas()
            self._stations()
            seed_catalogue()
            self._staff()
        with self.step(f"{z.organizations:,} organizations, {z.volunteers:,} volunteers"):
            self._organizations(z.organizations)
            self._volunteers(z.volunteers)
        with self.step("teams and their leaders' logins"):
            self._teams()
        with self.step(f"{z.merchants:,} merchants, offers, stations served"):
            self._merchants(z.merchants)
        with self.step(f"{z.residents:,} residents, phones, contacts"):
            self._residents(z.residents)
        with self.step(f"{z.orders:,} orders"):
            self._orders(z.orders)
        with self.step("complaints, follow-ups, sanctions; timeline"):
            self._complaints()
            self._timeline(z.timeline_orders)
        with self.step("calls and unmatched requests"):
            self._calls()
        with self.step("open orders and last taken, per provider"):
            self._recount()
        with self.step(
            f"special groups, consents, {z.pairings:,} pairings and their visits, "
            f"{z.wishes:,} micro-wishes"
        ):
            self._care(z.pairings, z.wishes)
        with self.step("service days (venues, stalls, shifts, sign-ups, hours), activities"):
            self._events()
        with self.step(f"{len(self.indexes)} indexes and unique constraints rebuilt"):
            self._rebuild_indexes(self.indexes)
        with self.step("month figures (services.order_month_stats_refresh)"):
            self._month_stats()
        with self.step("station manager of the busiest branch"):
            self._station_manager()
        with self.step("VACUUM ANALYZE" if not connection.in_atomic_block else "ANALYZE"):
            self._drop_temp()
            if connection.in_atomic_block:  # the test suite: no VACUUM in a transaction
                sql("ANALYZE")
            else:
                sql("VACUUM (ANALYZE)")
        with self.step("constraints checked"):
            checked = check_constraints()
            self.out(f"    {checked}")

    def _drop_temp(self) -> None:
        self.sql("SELECT tablename FROM pg_tables WHERE tablename LIKE 'bench\\_tmp\\_%%'")
        for (name,) in self.cur.fetchall():
            self.sql(f'DROP TABLE "{name}"')

    def _write_marker(self, scale: float) -> None:
        self.sql(
            "INSERT INTO bench_marker (scale, seed, version, sizes, steps, built_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [
                scale,
                self.seed,
                BUILDER_VERSION,
                json.dumps(asdict(self.sizes)),
                json.dumps(self.steps),
                self.now,
            ],
        )

    # --- indexes ------------------------------------------------------------------------

    def _drop_indexes(self, tables: list[str]) -> list[tuple[str, str, str | None]]:
        """Drop the secondary indexes of ``tables`` (unique ones too, except those
        a foreign key relies on); return what rebuilds them: (table, CREATE
        INDEX, constraint name to attach it to, or None)."""
        self.sql(
            """
            SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), c.conname
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
                                     AND c.contype = 'u'
            WHERE t.relname = ANY(%s) AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                              WHERE f.contype = 'f' AND f.conindid = x.indexrelid)
            ORDER BY t.relname, i.relname
            """,
            [tables],
        )
        found = self.cur.fetchall()
        # What a build that stopped half-way dropped and never rebuilt (the
        # statements autocommit): rebuilt this time, or it would be lost.
        self.sql(
            "CREATE TABLE IF NOT EXISTS bench_dropped_index "
            "(tbl text, name text, definition text, conname text)"
        )
        self.sql(
            "SELECT tbl, name, definition, conname FROM bench_dropped_index "
            "WHERE to_regclass(quote_ident(name)) IS NULL"
        )
        pending = self.cur.fetchall()
        self.sql("DELETE FROM bench_dropped_index")
        for row in found + pending:
            self.sql("INSERT INTO bench_dropped_index VALUES (%s, %s, %s, %s)", list(row))
        for table, index, _definition, constraint in found:
            if constraint:
                self.sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
            else:
                self.sql(f'DROP INDEX "{index}"')
        return [(t, definition, constraint) for t, _i, definition, constraint in found + pending]

    def _rebuild_indexes(self, indexes: list[tuple[str, str, str | None]]) -> None:
        # Biggest tables first, so two connections finish together.
        size = {t: self._count(f'"{t}"') for t in {t for t, _d, _c in indexes}}
        ordered = sorted(indexes, key=lambda r: -size[r[0]])
        self._run_all(
            [
                (definition, (), f"{definition.split(' ON ')[0].split()[-1]}")
                for _t, definition, _c in ordered
            ],
            quiet_below=2,  # the others: a line each would bury these
        )
        for table, definition, constraint in ordered:
            if constraint:
                index = definition.split(" ON ")[0].split()[-1]
                self.sql(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" UNIQUE USING INDEX {index}'
                )
        self.sql("DELETE FROM bench_dropped_index")

    # --- geography ----------------------------------------------------------------------

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
            "JOIN center_area d ON d.code = s.dc ORDER BY s.c",
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
            ORDER BY st.code, k
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
                   round(least(greatest(c.lat + ({u:st.id,101} * 2 - 1) * c.spread, %(lat0)s),
                               %(lat1)s)::numeric, 6),
                   round(least(greatest(c.lng + ({u:st.id,102} * 2 - 1) * c.spread, %(lng0)s),
                               %(lng1)s)::numeric, 6),
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
                   round((b.latitude + ({u:c.id,103} * 2 - 1) * 0.018)::numeric, 6),
                   round((b.longitude + ({u:c.id,104} * 2 - 1) * 0.021)::numeric, 6),
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
            CREATE UNLOGGED TABLE bench_tmp_st AS
            SELECT row_number() OVER (ORDER BY s.id)::int AS rn, s.id, s.parent_id,
                   s.latitude::float8 AS lat, s.longitude::float8 AS lng,
                   (SELECT area_id FROM center_station_communities sc
                    WHERE sc.station_id = s.id AND s.kind <> 'branch' LIMIT 1) AS community_id
            FROM center_station s WHERE s.kind <> 'center'
            """
        )
        sql("CREATE UNIQUE INDEX ON bench_tmp_st (rn)")
        # Communities, with their street, service point and branch (residents, orders).
        sql(
            """
            CREATE UNLOGGED TABLE bench_tmp_comm AS
            SELECT row_number() OVER (ORDER BY c.id)::int AS rn, c.id, c.name, st.name AS street,
                   sp.id AS sp_id, b.id AS branch_id,
                   coalesce(sp.latitude, b.latitude)::float8 AS lat,
                   coalesce(sp.longitude, b.longitude)::float8 AS lng
            FROM center_area c
            JOIN center_area st ON st.id = c.parent_id
            JOIN center_station b ON b.code = 'BR-' || st.code
            LEFT JOIN center_station sp ON sp.code = 'SP-' || c.code
            WHERE c.level = 'community'
            """
        )
        sql("CREATE UNIQUE INDEX ON bench_tmp_comm (rn)")

    def _staff(self) -> None:
        """The logins the timed pages use (force_login: their password is unusable).
        The center manager also runs the back office, as in the demo."""
        self.sql(
            """
            INSERT INTO center_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, full_name, role)
            SELECT %s, su, u, '', '', '', su, true, now(), n, r
            FROM (VALUES (%s, '接线员（测）', 'operator', false),
                         (%s, '中心主任（测）', 'center_manager', true),
                         (%s, '站长（测）', 'station_manager', false)) AS v(u, n, r, su)
            """,
            [BENCH_PASSWORD, OPERATOR, CENTER_MANAGER, STATION_MANAGER],
        )
        self.operator_id = self.one("SELECT id FROM center_user WHERE username = %s", [OPERATOR])
        self.center_id = self.one(
            "SELECT id FROM center_user WHERE username = %s", [CENTER_MANAGER]
        )

    # --- people who serve ---------------------------------------------------------------

    def _organizations(self, n: int) -> None:
        self.sql(
            """
            INSERT INTO volunteers_organization (name, kind, contact_name, contact_phone,
                created_at)
            SELECT (ARRAY['嘉兴市机关单位', '嘉兴市事业单位', '嘉兴企业'])[1 + g %% 3] || g || '号',
                   (ARRAY['government', 'institution', 'company'])[1 + g %% 3],
                   '联络人' || g, '0573' || (82000000 + g)::text, now()
            FROM generate_series(1, %s) g
            """,
            [n],
        )

    def _volunteers(self, n: int) -> None:
        sql = self.sql
        nst = self._count("bench_tmp_st")
        norg = self._count("volunteers_organization")
        # ~1.3 km around the home station; 40% on duty; 1.5% suspended (half of
        # them past the end date, so eligible again), 0.5% removed; 15% serve
        # through their employer (an in-service member names it: a constraint).
        sql(
            """
            INSERT INTO volunteers_volunteer (volunteer_no, name, mobile, is_party_member,
                party_branch, kind, organization_id, latitude, longitude, on_duty,
                weekly_availability, status, suspended_until, verified_hours, rating,
                created_at, updated_at, community_id, station_id)
            SELECT 'JX' || lpad(r.g::text, 9, '0'), '志愿者' || r.g, '13' || lpad(r.g::text, 9, '0'),
                   true, '', CASE WHEN r.e < %(in_service)s THEN 'in_service' ELSE 'community' END,
                   CASE WHEN r.e < %(in_service)s
                        THEN (SELECT min(id) FROM volunteers_organization) + r.g %% %(norg)s END,
                   round((s.lat + (r.a * 2 - 1) * 0.012)::numeric, 6),
                   round((s.lng + (r.b * 2 - 1) * 0.014)::numeric, 6),
                   r.c < 0.4, '{}'::jsonb,
                   CASE WHEN r.d < 0.015 THEN 'suspended' WHEN r.d < 0.02 THEN 'removed'
                        ELSE 'active' END,
                   CASE WHEN r.d < 0.0075 THEN current_date + 30
                        WHEN r.d < 0.015 THEN current_date - 3 END,
                   round((r.c * 300)::numeric, 2), round((4 + r.a)::numeric, 2),
                   now() - r.b * interval '1000 days', now(), s.community_id, s.id
            FROM (SELECT g, 1 + floor({u:g,110} * %(nst)s)::int AS k,
                         {u:g,111} AS a, {u:g,112} AS b, {u:g,113} AS c, {u:g,114} AS d,
                         {u:g,115} AS e
                  FROM generate_series(1, %(n)s) g) r
            JOIN bench_tmp_st s ON s.rn = r.k
            ORDER BY r.g
            """,
            {"n": n, "nst": nst, "norg": max(norg, 1), "in_service": IN_SERVICE_SHARE},
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
            SELECT DISTINCT v.id, it.a[1 + (v.b + k * 41) %% it.n]
            FROM (SELECT id, floor({u:id,116} * 1000000)::int AS b,
                         1 + floor({u:id,117} * 3)::int AS m FROM volunteers_volunteer) v
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS a, count(*)::int AS n
                        FROM center_serviceitem) it
            CROSS JOIN LATERAL generate_series(1, v.m) k
            """
        )
        sql(
            """
            INSERT INTO volunteers_volunteer_specialties (volunteer_id, specialty_id)
            SELECT v.id, sp.a[1 + floor(v.r / 0.6 * sp.n)::int]
            FROM (SELECT id, {u:id,118} AS r FROM volunteers_volunteer) v
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS a, count(*)::int AS n
                        FROM center_specialty) sp
            WHERE v.r < 0.6
            ORDER BY v.id
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
            ORDER BY p.id, dd.d, per.s
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
            CREATE UNLOGGED TABLE bench_tmp_leader AS
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
            INSERT INTO bench_tmp_leader
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
            FROM bench_tmp_leader l JOIN volunteers_volunteer v ON v.id = l.volunteer_id
            ORDER BY v.volunteer_no
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
            LEFT JOIN bench_tmp_leader l ON l.station_id = s.id
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS i, array_agg(name ORDER BY id) AS a,
                               count(*)::int AS n FROM center_specialty) sp
            CROSS JOIN LATERAL generate_series(1, CASE WHEN s.kind = 'center' THEN sp.n
                                                       ELSE %s END) k
            WHERE s.kind IN ('branch', 'center')
            ORDER BY s.id, k
            """,
            [TEAMS_PER_BRANCH],
        )
        # As Provider.fields_from(team): the leader's login and sanction status.
        sql(
            """
            INSERT INTO volunteers_provider (kind, team_id, name, user_id, station_id, latitude,
                longitude, on_duty, status, suspended_until, rating, open_orders)
            SELECT 'team', t.id, t.name, v.user_id, t.station_id, s.latitude::float8,
                   s.longitude::float8, t.is_active,
                   CASE WHEN v.id IS NULL THEN 'removed' ELSE v.status END, v.suspended_until,
                   5.00, 0
            FROM volunteers_serviceteam t
            JOIN center_station s ON s.id = t.station_id
            LEFT JOIN volunteers_volunteer v ON v.id = t.leader_id
            ORDER BY t.id
            """
        )

    def _merchants(self, n: int) -> None:
        nst = self._count("bench_tmp_st")
        self.sql(
            """
            WITH r AS MATERIALIZED (
                SELECT g, 1 + floor({u:g,120} * %(nst)s)::int AS k, {u:g,121} AS a,
                       {u:g,122} AS b
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
                FROM r JOIN bench_tmp_st s ON s.rn = r.k
                ORDER BY r.g
                RETURNING id, licence_no
            )
            INSERT INTO volunteers_merchant_stations (merchant_id, station_id)
            SELECT DISTINCT m.id, x.station_id
            FROM m
            JOIN r ON m.licence_no = 'BENCH' || lpad(r.g::text, 12, '0')
            JOIN bench_tmp_st s ON s.rn = r.k
            CROSS JOIN LATERAL (VALUES (s.id), (s.parent_id)) AS x(station_id)
            WHERE x.station_id IS NOT NULL
            """,
            {"n": n, "nst": nst},
        )
        self.sql(
            """
            INSERT INTO volunteers_merchantoffer (merchant_id, item_id, price)
            SELECT DISTINCT ON (m.id, it.i[1 + (m.b + k * 13) %% it.n])
                   m.id, it.i[1 + (m.b + k * 13) %% it.n],
                   round(it.p[1 + (m.b + k * 13) %% it.n] * (0.8 + 0.2 * m.c)::numeric, 2)
            FROM (SELECT id, floor({u:id,123} * 1000000)::int AS b, {u:id,124} AS c
                  FROM volunteers_merchant) m
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS i,
                               array_agg(center_price ORDER BY id) AS p, count(*)::int AS n
                        FROM center_serviceitem) it
            CROSS JOIN generate_series(1, %s) k
            ORDER BY m.id, it.i[1 + (m.b + k * 13) %% it.n]
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

    # --- residents and orders -----------------------------------------------------------

    def _residents(self, n: int) -> None:
        words = {"surnames": SURNAMES, "given": GIVEN, "relations": RELATIONS}
        days = YEARS * 365
        self.sql(
            S.RESIDENTS,
            {
                **words,
                "n": n,
                "now": self.now,
                "days": days,
                "ncomm": self._count("bench_tmp_comm"),
            },
        )
        self.sql(S.PHONES)
        self.sql(S.CONTACTS, words)
        self.sql("SELECT setval(pg_get_serial_sequence('requests_resident', 'id'), %s)", [n])

    def _care(self, pairings: int, wishes: int) -> None:
        """The registry (one resident in ten), consents and sensitive rows,
        pairings with a year of visits, micro-wishes in every state."""
        sql = self.sql
        today = timezone.localdate(self.now)
        base = {"now": self.now, "today": today, "tz": TZ}
        ngroups = self.one("SELECT count(*) FROM requests_specialgroup WHERE is_active")
        sql(
            S.SPECIAL_GROUPS,
            {**base, "cats": DISABILITY, "ngroups": ngroups, "share": SPECIAL_SHARE},
        )
        sql(S.SPECIAL_MARK)
        sql(S.CONSENTS, base)
        sql(S.SENSITIVE, {**base, "health": HEALTH})
        sql(
            "CREATE UNLOGGED TABLE bench_tmp_special AS SELECT row_number() OVER (ORDER BY id)::int"
            " AS rn, id, community_id FROM requests_resident WHERE is_special"
        )
        sql(
            "CREATE UNLOGGED TABLE bench_tmp_member AS SELECT row_number() OVER (ORDER BY id)::int"
            " AS rn, id FROM volunteers_volunteer WHERE kind = 'in_service' AND status = 'active'"
        )
        nspecial, nmembers = self._count("bench_tmp_special"), self._count("bench_tmp_member")
        sql(S.PAIRINGS, {**base, "n": min(pairings, nspecial), "nmembers": nmembers})
        sql(S.VISITS, {**base, "found": FOUND})
        sql(S.VISIT_CONTACT, base)
        sql(
            S.WISHES,
            {
                **base,
                "n": wishes,
                "nspecial": nspecial,
                "days": YEARS * 365,
                "titles": WISH_TITLES,
                "kinds": ["goods", "service", "company"],
                "sources": ["visit", "phone", "community", "online"],
                "states": [
                    "draft",
                    "verified",
                    "published",
                    "published",
                    "published",
                    "adopted",
                    "contacted",
                    "fulfilled",
                    "confirmed",
                    "withdrawn",
                ],
            },
        )
        sql(S.ADOPTIONS, {"nmembers": nmembers})
        # The volunteer login the pages are timed as: eight residents of its own
        # and the latest adopted wishes, so "my residents" and "my wishes" list rows.
        sql(
            S.BENCH_VOLUNTEER_CARE,
            {**base, "password": BENCH_PASSWORD, "n": min(pairings, nspecial)},
        )

    def _events(self) -> None:
        """Five years of monthly service days at every branch and the coming
        one open, two activities a month per branch (``sql_events``)."""
        sql = self.sql
        today = timezone.localdate(self.now)
        base = {"now": self.now, "today": today, "tz": TZ}
        sql(E.SERVICE_DAYS, {**base, "theme": "党在我心中·我在群众中"})
        sql(E.VENUES)
        sql(E.STALLS, {**base, "services": STALL_SERVICES})
        sql(E.SHIFTS, base)
        sql(E.BRANCH_VOLUNTEERS)
        sql(E.SIGNUPS, base)
        sql(E.TAKEN)
        sql(E.SIGNUP_HOURS)
        sql(E.ACTIVITIES, {**base, "titles": ACTIVITY_TITLES})
        sql(E.PARTICIPATIONS)
        sql(E.PARTICIPATION_HOURS, base)
        sql(E.BENCH_VOLUNTEER_EVENTS, {**base, "password": BENCH_PASSWORD})

    def _order_tables(self) -> dict:
        """Lookup tables for the order chunks (unlogged: another connection reads them)."""
        sql = self.sql
        sql(
            """
            CREATE UNLOGGED TABLE bench_tmp_res AS
            SELECT r.id, r.community_id, c.branch_id, c.sp_id, r.latitude AS lat,
                   r.longitude AS lng, r.address, r.is_free, p.number AS phone
            FROM requests_resident r
            JOIN bench_tmp_comm c ON c.id = r.community_id
            LEFT JOIN (SELECT DISTINCT ON (resident_id) resident_id, number
                       FROM requests_residentphone ORDER BY resident_id, id) p
                   ON p.resident_id = r.id
            """
        )
        sql(
            """
            CREATE UNLOGGED TABLE bench_tmp_items AS
            SELECT row_number() OVER (ORDER BY id)::int AS rn, id, center_price AS price,
                   typical_minutes AS minutes
            FROM center_serviceitem WHERE is_active
            """
        )
        # Per branch: its volunteers (its own and its service points'), the
        # merchants serving it, its teams; a branch without a volunteer of its
        # own (a small data set) borrows the first volunteer.
        sql(
            """
            CREATE UNLOGGED TABLE bench_tmp_bv AS
            SELECT coalesce(CASE WHEN s.kind = 'branch' THEN s.id END, s.parent_id) AS branch_id,
                   row_number() OVER (PARTITION BY coalesce(CASE WHEN s.kind = 'branch'
                                      THEN s.id END, s.parent_id) ORDER BY p.id)::int AS brn,
                   p.id
            FROM volunteers_provider p JOIN center_station s ON s.id = p.station_id
            WHERE p.kind = 'volunteer'
            """
        )
        sql(
            """
            INSERT INTO bench_tmp_bv
            SELECT b.id, 1, (SELECT min(id) FROM volunteers_provider WHERE kind = 'volunteer')
            FROM center_station b
            WHERE b.kind = 'branch' AND NOT EXISTS (SELECT 1 FROM bench_tmp_bv v
                                                    WHERE v.branch_id = b.id)
            """
        )
        sql(
            """
            CREATE UNLOGGED TABLE bench_tmp_bm AS
            SELECT ms.station_id AS branch_id,
                   row_number() OVER (PARTITION BY ms.station_id ORDER BY p.id)::int AS brn, p.id
            FROM volunteers_merchant_stations ms
            JOIN center_station s ON s.id = ms.station_id AND s.kind = 'branch'
            JOIN volunteers_provider p ON p.merchant_id = ms.merchant_id
            """
        )
        sql(
            """
            CREATE UNLOGGED TABLE bench_tmp_bt AS
            SELECT t.station_id AS branch_id,
                   row_number() OVER (PARTITION BY t.station_id ORDER BY p.id)::int AS brn, p.id
            FROM volunteers_serviceteam t
            JOIN center_station s ON s.id = t.station_id AND s.kind = 'branch'
            JOIN volunteers_provider p ON p.team_id = t.id
            """
        )
        sql(
            """
            CREATE UNLOGGED TABLE bench_tmp_bn AS
            SELECT b.id AS branch_id, coalesce(v.n, 0) AS nv, coalesce(m.n, 0) AS nm,
                   coalesce(t.n, 0) AS nt
            FROM center_station b
            LEFT JOIN (SELECT branch_id, count(*) AS n FROM bench_tmp_bv GROUP BY 1) v
                   ON v.branch_id = b.id
            LEFT JOIN (SELECT branch_id, count(*) AS n FROM bench_tmp_bm GROUP BY 1) m
                   ON m.branch_id = b.id
            LEFT JOIN (SELECT branch_id, count(*) AS n FROM bench_tmp_bt GROUP BY 1) t
                   ON t.branch_id = b.id
            WHERE b.kind = 'branch'
            """
        )
        for table, key in [
            ("bench_tmp_res", "id"),
            ("bench_tmp_items", "rn"),
            ("bench_tmp_bv", "branch_id, brn"),
            ("bench_tmp_bm", "branch_id, brn"),
            ("bench_tmp_bt", "branch_id, brn"),
            ("bench_tmp_bn", "branch_id"),
        ]:
            sql(f"CREATE UNIQUE INDEX ON {table} ({key})")
            sql(f"ANALYZE {table}")
        return {
            "residents": self._count("bench_tmp_res"),
            "items": self._count("bench_tmp_items"),
        }

    def _orders(self, n: int) -> None:
        counts = self._order_tables()
        params = {
            "n": n,
            "now": self.now,
            "days": YEARS * 365,
            "tz": TZ,
            "operator": self.operator_id,
            **counts,
        }
        self._run_all(
            [
                (S.ORDERS, {**params, "lo": lo, "hi": min(n, lo + CHUNK - 1)}, f"orders {lo:,}–")
                for lo in range(1, n + 1, CHUNK)
            ]
        )
        self.sql("SELECT setval(pg_get_serial_sequence('requests_servicerequest', 'id'), %s)", [n])

    def _complaints(self) -> None:
        sql = self.sql
        sql(S.COMPLAINT_ORDERS, {"now": self.now, "rate": COMPLAINT_RATE})
        sql(
            """
            INSERT INTO volunteers_complaint (id, provider_id, description, recorded_by_id,
                recorded_at, status, ruled_by_id, ruled_at, ruling_reason, station_id)
            SELECT c.cid, c.provider_id,
                   (%(words)s::text[])[1 + floor(c.r * cardinality(%(words)s::text[]))::int],
                   %(operator)s, c.at, c.status,
                   CASE WHEN c.status <> 'pending' THEN %(center)s::bigint END,
                   CASE WHEN c.status <> 'pending' THEN c.at + interval '2 days' END,
                   CASE c.status WHEN 'valid' THEN '回访核实属实'
                                 WHEN 'invalid' THEN '经核实不属实' ELSE '' END,
                   -- Counted at the order's station (complaint_record(station_id=...)).
                   (SELECT o.station_id FROM requests_servicerequest o WHERE o.id = c.order_id)
            FROM bench_tmp_cmp c ORDER BY c.cid
            """,
            {"words": COMPLAINTS, "operator": self.operator_id, "center": self.center_id},
        )
        sql(
            "SELECT setval(pg_get_serial_sequence('volunteers_complaint', 'id'), "
            "greatest((SELECT max(id) FROM volunteers_complaint), 1))"
        )
        # The ladder (settings SANCTION_LADDER): the first valid complaint within
        # a year is a warning (one month), the next ones yellow cards (three
        # months); all long over, so expired. A third is not a red card here
        # (it would remove the provider, whose status the build does not derive).
        sql(
            """
            INSERT INTO volunteers_sanction (provider_id, complaint_id, level, starts_on, ends_on,
                status, created_at, revoke_reason)
            SELECT c.provider_id, c.cid, CASE WHEN c.nth = 1 THEN 'warning' ELSE 'yellow' END,
                   (c.ruled AT TIME ZONE %(tz)s)::date,
                   ((c.ruled AT TIME ZONE %(tz)s)::date
                    + CASE WHEN c.nth = 1 THEN interval '1 month' ELSE interval '3 months' END)::date,
                   'expired', c.ruled, ''
            FROM (SELECT x.*, x.at + interval '2 days' AS ruled,
                         count(*) OVER (PARTITION BY x.provider_id ORDER BY x.at
                                        RANGE BETWEEN interval '365 days' PRECEDING
                                        AND CURRENT ROW) AS nth
                  FROM bench_tmp_cmp x WHERE x.status = 'valid') c
            ORDER BY c.cid
            """,
            {"tz": TZ},
        )
        # The call that raised each complaint.
        sql(
            """
            INSERT INTO requests_followup (order_id, provider_id, operator_id, at, satisfaction,
                score, words, reopened, complaint_id)
            SELECT c.order_id, c.provider_id, %s, c.at, 'unsatisfied',
                   1 + floor(c.r * 2)::int, '', false, c.cid
            FROM bench_tmp_cmp c ORDER BY c.cid
            """,
            [self.operator_id],
        )

    def _timeline(self, n: int) -> None:
        sql = self.sql
        since = max(0, self.sizes.orders - n)
        # Follow-up calls of the recent archived orders (the complaint ones have theirs).
        sql(
            """
            INSERT INTO requests_followup (order_id, provider_id, operator_id, at, satisfaction,
                score, words, reopened)
            SELECT o.id, o.provider_id, %(operator)s, o.followed_up_at,
                   CASE WHEN {u:o.id,50} < 0.85 THEN 'satisfied'
                        WHEN {u:o.id,50} < 0.97 THEN 'basically' ELSE 'unsatisfied' END,
                   CASE WHEN {u:o.id,50} < 0.85 THEN 5 WHEN {u:o.id,50} < 0.97 THEN 4 ELSE 2 END,
                   '', false
            FROM requests_servicerequest o
            WHERE o.id > %(since)s AND o.status = 'archived'
              AND NOT EXISTS (SELECT 1 FROM bench_tmp_cmp c WHERE c.order_id = o.id)
            ORDER BY o.id
            """,
            {"operator": self.operator_id, "since": since},
        )
        sql(S.EVENTS, {"operator": self.operator_id, "since": since})
        sql(S.EVENT_AUDIT)

    def _calls(self) -> None:
        """The call log and the unmatched requests (issue 14, part A), set-based.

        ``order`` calls: a sample of the hotline orders, one call each at the
        order's receipt (the bench's orders run ~3x the real city's, so every
        hotline order having its call, as ``order_create`` logs it, would be
        ~2,200 calls a day; the sample keeps the city's 800 a day, 60 % of
        them orders). The others are anchored on a random order (the same
        growth over the years and hours of the day): enquiries (55 %; 60 %
        of them from that order's resident, counted at their community's
        branch, the rest from an unknown number, city-wide), repeat calls
        (25 %, about that order, within two hours) and complaints (20 %,
        about it, within three days of its completion). Needs no item
        matched come from one enquiry in ten (in the enquiry's category and
        station), a tenth of them from community talks."""
        sql = self.sql
        days = YEARS * 365
        n = self.sizes.orders
        hotline = max(1, round(n * 0.8))  # S.ORDERS: 80 % of orders by hotline
        order_calls = CALLS_PER_DAY * ORDER_CALL_SHARE * days
        other_calls = round(CALLS_PER_DAY * (1 - ORDER_CALL_SHARE) * days * min(1, n / 5e6))
        categories = [c for (c,) in self._rows("SELECT id FROM center_servicecategory ORDER BY id")]
        sql(
            """
            INSERT INTO requests_calllog (at, number, resident_id, kind, order_id, station_id,
                category_id, operator_id, duration_seconds, note)
            SELECT o.received_at, o.caller_phone, o.resident_id, 'order', o.id, o.station_id,
                   i.category_id, %(operator)s, 60 + floor({u:o.id,60} * 420)::int, ''
            FROM requests_servicerequest o
            JOIN center_serviceitem i ON i.id = o.item_id
            WHERE o.channel = 'hotline' AND {u:o.id,61} < %(p)s
            ORDER BY o.id
            """,
            {"operator": self.operator_id, "p": min(1.0, order_calls / hotline)},
        )
        sql(
            """
            INSERT INTO requests_calllog (at, number, resident_id, kind, order_id, station_id,
                category_id, operator_id, duration_seconds, note)
            SELECT t.at,
                   CASE WHEN x.known THEN o.caller_phone
                        ELSE '1' || (3 + floor({u:x.g,64} * 7))::int
                             || lpad(((x.g::bigint * 387420489) %% 1000000000)::text, 9, '0') END,
                   CASE WHEN x.known THEN o.resident_id END,
                   x.kind,
                   CASE WHEN x.kind <> 'enquiry' THEN o.id END,
                   CASE WHEN x.kind <> 'enquiry' THEN o.station_id
                        WHEN x.known THEN c.branch_id END,
                   CASE WHEN x.kind <> 'enquiry' THEN i.category_id
                        ELSE (%(cats)s::bigint[])[1 + floor({u:x.g,65}
                                                   * cardinality(%(cats)s::bigint[]))::int] END,
                   %(operator)s, 20 + floor({u:x.g,66} * 400)::int,
                   CASE WHEN x.kind = 'enquiry'
                        THEN (%(notes)s::text[])[1 + floor({u:x.g,67}
                                                 * cardinality(%(notes)s::text[]))::int]
                        WHEN x.kind = 'repeat' THEN '催办'
                        ELSE (%(complaints)s::text[])[1 + floor({u:x.g,67}
                                                      * cardinality(%(complaints)s::text[]))::int]
                   END
            FROM (
                SELECT g, 1 + floor({u:g,62} * %(n)s)::bigint AS oid,
                       CASE WHEN {u:g,63} < 0.55 THEN 'enquiry'
                            WHEN {u:g,63} < 0.80 THEN 'repeat' ELSE 'complaint' END AS kind,
                       {u:g,63} >= 0.55 OR {u:g,68} < 0.6 AS known
                FROM generate_series(1, %(m)s) g
            ) x
            JOIN requests_servicerequest o ON o.id = x.oid
            JOIN center_serviceitem i ON i.id = o.item_id
            LEFT JOIN bench_tmp_comm c ON c.id = o.community_id
            CROSS JOIN LATERAL (
                SELECT least(%(now)s, CASE x.kind
                    WHEN 'enquiry' THEN o.received_at + {u:x.g,69} * interval '1 hour'
                    WHEN 'repeat' THEN o.received_at + (5 + {u:x.g,69} * 115) * interval '1 minute'
                    ELSE coalesce(o.completed_at, o.received_at) + {u:x.g,69} * interval '3 days'
                    END) AS at
            ) t
            ORDER BY t.at
            """,
            {
                "operator": self.operator_id,
                "n": n,
                "m": other_calls,
                "now": self.now,
                "cats": categories,
                "notes": ENQUIRY_NOTES,
                "complaints": COMPLAINTS,
            },
        )
        calls = self._count("requests_calllog")
        enquiries = self.one("SELECT count(*) FROM requests_calllog WHERE kind = 'enquiry'")
        from_calls = UNMATCHED_PER_DAY * (1 - TALK_SHARE) * days * min(1, n / 5e6)
        sql(
            """
            INSERT INTO requests_unmatchedrequest (source, text, category_id, community_id,
                station_id, call_id, occasion, mentions, occurred_on, recorded_by_id, recorded_at,
                words)
            SELECT 'call',
                   (%(words)s::text[])[1 + floor({u:k.id,71} * cardinality(%(words)s::text[]))::int],
                   k.category_id, r.community_id, k.station_id, k.id, '', 1,
                   (k.at AT TIME ZONE %(tz)s)::date, k.operator_id, k.at, ''
            FROM requests_calllog k
            LEFT JOIN requests_resident r ON r.id = k.resident_id
            WHERE k.kind = 'enquiry' AND {u:k.id,70} < %(p)s
            ORDER BY k.at, k.id
            """,
            {"words": UNMATCHED_WORDS, "tz": TZ, "p": min(1.0, from_calls / max(1, enquiries))},
        )
        sql(
            """
            INSERT INTO requests_unmatchedrequest (source, text, category_id, community_id,
                station_id, call_id, occasion, mentions, occurred_on, recorded_by_id, recorded_at,
                words)
            SELECT 'talk',
                   (%(words)s::text[])[1 + floor({u:g,72} * cardinality(%(words)s::text[]))::int],
                   (%(cats)s::bigint[])[1 + floor({u:g,73} * cardinality(%(cats)s::bigint[]))::int],
                   c.id, c.branch_id, NULL,
                   (%(meetings)s::text[])[1 + floor({u:g,74}
                                          * cardinality(%(meetings)s::text[]))::int],
                   1 + floor({u:g,75} * 15)::int,
                   ((%(now)s - {u:g,76} * %(days)s * interval '1 day') AT TIME ZONE %(tz)s)::date,
                   %(center)s, %(now)s, ''
            FROM generate_series(1, %(m)s) g
            JOIN bench_tmp_comm c ON c.rn = 1 + floor({u:g,77} * %(ncomm)s)::int
            ORDER BY 9, g
            """,
            {
                "words": UNMATCHED_WORDS,
                "cats": categories,
                "meetings": TALK_MEETINGS,
                "now": self.now,
                "days": days,
                "tz": TZ,
                "center": self.center_id,
                "m": round(UNMATCHED_PER_DAY * TALK_SHARE * days * min(1, n / 5e6)),
                "ncomm": self._count("bench_tmp_comm"),
            },
        )
        # The normalised words the service keeps (requests.models.unmatched_words).
        from requests.models import unmatched_words

        sql(
            """
            UPDATE requests_unmatchedrequest u SET words = m.w
            FROM unnest(%(texts)s::text[], %(keys)s::text[]) AS m(t, w) WHERE u.text = m.t
            """,
            {"texts": UNMATCHED_WORDS, "keys": [unmatched_words(t) for t in UNMATCHED_WORDS]},
        )
        self.out(
            f"    {calls:,} calls ({calls / days:,.0f} a day), "
            f"{self._count('requests_unmatchedrequest'):,} unmatched requests"
        )

    def _rows(self, query: str, params=()) -> list[tuple]:
        self.sql(query, params)
        return self.cur.fetchall()

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

    def _month_stats(self) -> None:
        """The report's summary table, as its refresh task leaves it: every month
        of the orders, rebuilt by the service that keeps it (one rule)."""
        from requests import services

        refresh = getattr(services, "order_month_stats_refresh", None)
        if refresh is None:  # no summary table in this version of the app
            return
        first = self.one("SELECT min(received_at) FROM requests_servicerequest")
        if first is None:
            return
        month = timezone.localtime(first).date().replace(day=1)
        last = timezone.localdate().replace(day=1)
        months = []
        while month <= last:
            months.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)

        def task(month):
            try:
                return refresh(month=month)
            finally:
                if self.jobs > 1:
                    connections["default"].close()  # this thread's own connection

        if self.jobs == 1:
            rows = sum(map(task, months))
        else:
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                rows = sum(pool.map(task, months))
        self.out(f"    {len(months)} months, {rows:,} rows")

    def _station_manager(self) -> None:
        """The station manager runs the branch with the most orders (its service
        points included: their manager's scope)."""
        branch = self.one(
            """
            SELECT coalesce(CASE WHEN s.kind = 'branch' THEN s.id END, s.parent_id) AS b
            FROM (SELECT station_id, count(*) AS n FROM requests_servicerequest
                  GROUP BY station_id) o
            JOIN center_station s ON s.id = o.station_id
            WHERE s.kind <> 'center'
            GROUP BY 1 ORDER BY sum(o.n) DESC, 1 LIMIT 1
            """
        )
        self.sql(
            "INSERT INTO center_user_stations (user_id, station_id) "
            "SELECT id, %s FROM center_user WHERE username = %s",
            [branch, STATION_MANAGER],
        )


def check_constraints() -> str:
    """Every ``Meta.constraints`` entry of the models whose tables the build
    fills exists in the database (so PostgreSQL enforced it on every row, or
    on the rebuilt unique index); one the database lacks is checked with a query."""
    tables = set(TABLES) | set(BIG_TABLES)
    checks = uniques = 0
    with connection.cursor() as cur:
        cur.execute("SELECT conname FROM pg_constraint")
        names = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT relname FROM pg_class WHERE relkind = 'i'")
        names |= {r[0] for r in cur.fetchall()}
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                checks += 1
                if (
                    constraint.name not in names
                    and model._default_manager.exclude(constraint.condition).exists()
                ):
                    raise BenchError(f"{model.__name__}: rows break {constraint.name}")
            elif isinstance(constraint, UniqueConstraint):
                uniques += 1
                if constraint.name not in names:
                    raise BenchError(f"{model.__name__}: {constraint.name} is not in the database")
    return f"{checks} check and {uniques} unique constraints of the models hold"
