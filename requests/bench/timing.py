"""Timing the cases of ``pages`` in-process: the test client as the real
roles, DEBUG off, after a warm-up; then, in the same run, their anchors.

Per case: ``repeat`` timed runs (the median, p90 and spread), then one run
with the queries recorded (``CaptureQueriesContext``: the count; an execute
wrapper: each query's SQL, parameters and time). Anchors: the page's main
query (the SQL the ORM produced for the listed rows) run again through a
cursor, and Django's plain changelist of the same model (``anchor_urls``);
a page reads as a ratio to them, which a noisy machine moves less than the
milliseconds. ``EXPLAIN (ANALYZE, BUFFERS)`` of each budgeted case's slowest
query goes to ``var/bench/<case>.txt``.
"""

import logging
import re
import statistics
import time
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from center.models import AuditEntry
from requests.models import ServiceRequest

from .anchor_urls import ANCHOR_MODELS
from .budgets import BUDGETS, budget_for
from .pages import Case, World
from .rankings import pct

ANCHOR_URLCONF = "requests.bench.anchor_urls"
_FROM = re.compile(r'\bFROM\s+"([^"]+)"', re.IGNORECASE)


class CaseError(Exception):
    pass


class NotAPage(Exception):
    """A swept URL no role may GET (an action: POST only)."""


@dataclass
class Query:
    ms: float
    sql: str
    params: object


@dataclass
class Result:
    case: Case
    role: str = ""
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)  # per recorded run
    slowest: Query | None = None
    main: Query | None = None
    sql_anchor: float | None = None
    admin_anchor: float | None = None
    error: str = ""
    skipped: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def budget(self):
        return budget_for(self.case.name)

    @property
    def query_text(self) -> str:
        if not self.queries:
            return "-"
        lo, hi = min(self.queries), max(self.queries)
        return str(lo) if lo == hi else f"{lo}–{hi}"

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        b = self.budget
        over = self.median > b.ms
        if b.queries is not None and self.queries and max(self.queries) > b.queries:
            over = True
        if b.constant and len(set(self.queries)) > 1:
            over = True
        return "OVER" if over else "OK"


class Runner:
    def __init__(self, world: World, *, repeat: int, warmup: int, out: Callable[[str], None]):
        self.world = world
        self.repeat = max(1, repeat)
        self.warmup = max(0, warmup)
        self.out = out
        self.clients: dict[str, Client] = {}
        self.started = None
        self.max_order = 0
        self.skipped: list[str] = []

    # --- clients and clean-up -----------------------------------------------------------

    def client(self, role: str) -> Client:
        if role not in self.clients:
            client = Client()
            client.force_login(self.world.users[role])
            self.clients[role] = client
        return self.clients[role]

    def run_all(self, cases: list[Case]) -> list[Result]:
        """Time every case (DEBUG off, the anchor URLs mounted), then remove
        what the timed runs wrote: the orders created and the audit rows of
        the bench logins written since the start."""
        self.started = timezone.now()
        self.max_order = ServiceRequest.objects.order_by("-pk").values_list("pk", flat=True).first()
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        # The 403s and 405s of the role probe and axes' login lines are not news here.
        logging.disable(logging.WARNING)
        try:
            with (
                override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, ROOT_URLCONF=ANCHOR_URLCONF),
                warnings.catch_warnings(),
            ):
                # WhiteNoise on a checkout without collectstatic: not what is measured.
                warnings.filterwarnings("ignore", "No directory at", UserWarning)
                results = []
                for case in cases:
                    result = self.run_case(case)
                    if not result.skipped:
                        results.append(result)
                        self.out(line(result))
                    else:
                        self.skipped.append(
                            f"{case.label.removeprefix('page ')} ({result.skipped})"
                        )
                return results
        finally:
            self.clean_up()
            logging.disable(logging.NOTSET)

    def clean_up(self) -> None:
        created = ServiceRequest.objects.filter(pk__gt=self.max_order or 0)
        # The calls the timed runs logged (issue 14: an intake logs its order
        # call, the call panel an enquiry): the bench logins' since the start.
        from requests.models import CallLog

        users = list(self.world.users.values())
        CallLog.objects.filter(operator__in=users, at__gte=self.started).delete()
        created.delete()
        AuditEntry.objects.filter(actor__in=users, created_at__gte=self.started).delete()
        for client in self.clients.values():
            client.logout()

    # --- one case -----------------------------------------------------------------------

    def _check(self, case: Case, response) -> None:
        if isinstance(response, HttpResponse):
            if response.status_code != case.expect:
                where = f" → {response.get('Location')}" if response.has_header("Location") else ""
                raise CaseError(f"status {response.status_code}{where} (expected {case.expect})")

    def _settle_role(self, case: Case) -> str:
        """For a swept page: the first role it lets in."""
        statuses = []
        for role in ("center", "operator", "station", "volunteer"):
            if role not in self.world.users:
                continue
            response = case.run(self.client(role), 0)
            statuses.append(f"{role} {response.status_code}")
            if response.status_code == 200:
                return role
        if all(s.endswith(" 405") for s in statuses):
            raise NotAPage("POST only")
        raise CaseError("no role gets 200 (" + ", ".join(statuses) + ")")

    def run_case(self, case: Case) -> Result:
        result = Result(case)
        try:
            role = self._settle_role(case) if case.role == "auto" else case.role
            result.role = role or "-"
            client = self.client(role) if role else None
            i = 0
            for _ in range(self.warmup * case.per_repeat):
                self._check(case, case.run(client, i))
                i += 1
            for _ in range(self.repeat * case.per_repeat):
                started = time.perf_counter()
                response = case.run(client, i)
                result.times.append((time.perf_counter() - started) * 1000)
                self._check(case, response)
                i += 1
            recorded: list[Query] = []
            for _ in range(case.per_repeat):
                queries: list[Query] = []

                def capture(execute, sql, params, many, context, queries=queries):
                    started = time.perf_counter()
                    try:
                        return execute(sql, params, many, context)
                    finally:
                        queries.append(Query((time.perf_counter() - started) * 1000, sql, params))

                with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(capture):
                    case.run(client, i)
                i += 1
                result.queries.append(len(ctx.captured_queries))
                recorded += queries
            selects = [q for q in recorded if q.sql.lstrip().upper().startswith(("SELECT", "WITH"))]
            result.slowest = max(selects, key=lambda q: q.ms, default=None)
            if case.model is not None:
                result.main = main_query(case.model, selects)
                self.anchors(result)
        except NotAPage as exc:
            result.skipped = str(exc)
        except Exception as exc:  # a page that fails is a row of the table, not the end
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        return result

    def anchors(self, result: Result) -> None:
        model = result.case.model
        n = self.repeat
        if result.main is not None:
            q = result.main
            times = []
            with connection.cursor() as cur:
                for k in range(self.warmup + n):
                    started = time.perf_counter()
                    cur.execute(q.sql, q.params)
                    cur.fetchall()
                    if k >= self.warmup:
                        times.append((time.perf_counter() - started) * 1000)
            result.sql_anchor = statistics.median(times)
        if model in ANCHOR_MODELS:
            opts = model._meta
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app="bench_anchor"
            )
            client = self.client("center")
            times = []
            for k in range(self.warmup + n):
                started = time.perf_counter()
                response = client.get(url)
                if k >= self.warmup:
                    times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    return
            result.admin_anchor = statistics.median(times)


def main_query(model, selects: list[Query]) -> Query | None:
    """The query that fetched the listed rows: a SELECT from the model's table
    with a LIMIT (the slowest such, if several), else the slowest SELECT
    from the model's table."""
    table = model._meta.db_table
    own = [q for q in selects if (m := _FROM.search(q.sql)) and m.group(1) == table]
    limited = [q for q in own if " LIMIT " in q.sql.upper() and "COUNT(" not in q.sql.upper()]
    return max(limited or own, key=lambda q: q.ms, default=None)


# --- EXPLAIN -----------------------------------------------------------------------------------


def save_explains(results: list[Result], directory: Path) -> list[Path]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each budgeted case's slowest query (a
    SELECT: EXPLAIN ANALYZE runs the statement)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for r in results:
        if r.case.name not in BUDGETS or r.slowest is None:
            continue
        q = r.slowest
        with connection.cursor() as cur:
            try:
                text = cur.cursor.mogrify(q.sql, q.params)
            except Exception:  # not psycopg's client-side cursor: the SQL and its parameters
                text = f"{q.sql}\n-- parameters: {q.params!r}"
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q.sql, q.params)
            plan = "\n".join(row[0] for row in cur.fetchall())
        path = directory / f"{r.case.name}.txt"
        path.write_text(
            f"-- {r.case.label} (as {r.role}): the slowest query of the recorded run, "
            f"{q.ms:.1f} ms\n{text}\n\n{plan}\n",
            encoding="utf-8",
        )
        written.append(path)
    return written


# --- the table --------------------------------------------------------------------------------

COLUMNS = (
    f"{'page / operation':<52}{'role':<10}{'median':>8}{'p90':>8}{'min–max':>14}"
    f"{'queries':>9}  {'budget':<18}{'×SQL':>7}{'×admin':>8}  "
)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """``text`` cut and padded to ``width`` terminal columns (a CJK character takes two)."""
    while _width(text) > width:
        text = text[:-1]
    return text + " " * (width - _width(text))


def _ratio(value: float, anchor: float | None) -> str:
    return f"{value / anchor:.1f}" if anchor else "-"


def line(r: Result) -> str:
    if r.error:
        return f"{_pad(r.case.label, 51)} {r.role or '-':<10}  ERROR  {r.error}"
    spread = f"{min(r.times):.1f}–{max(r.times):.1f}"
    return (
        f"{_pad(r.case.label, 51)} {r.role:<10}{r.median:>8.1f}{pct(r.times, 0.9):>8.1f}"
        f"{spread:>14}{r.query_text:>9}  {str(r.budget):<18}"
        f"{_ratio(r.median, r.sql_anchor):>7}{_ratio(r.median, r.admin_anchor):>8}  {r.verdict}"
    )


def markdown(results: list[Result]) -> str:
    rows = [
        "| page / operation | role | median ms | p90 | min–max | queries | budget | × raw SQL "
        "| × plain admin | |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for r in results:
        if r.error:
            rows.append(
                f"| {r.case.label} | {r.role} | | | | | {r.budget} | | | ERROR: {r.error} |"
            )
            continue
        rows.append(
            f"| {r.case.label} | {r.role} | {r.median:.1f} | {pct(r.times, 0.9):.1f} | "
            f"{min(r.times):.1f}–{max(r.times):.1f} | {r.query_text} | {r.budget} | "
            f"{_ratio(r.median, r.sql_anchor)} | {_ratio(r.median, r.admin_anchor)} | "
            f"{r.verdict} |"
        )
    return "\n".join(rows)


__all__ = ["COLUMNS", "Result", "Runner", "line", "markdown", "save_explains"]
