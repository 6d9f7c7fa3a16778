"""Load over HTTP (issue 10): gunicorn on loopback, operators as a small asyncio client.

``manage.py bench_http`` starts the server with :class:`Gunicorn`, runs
:func:`intake` and :func:`typing` and prints :func:`table`. The client sends
what a browser sends: the form page, then the form back as the page rendered
it (CSRF token, ``intake_key``, the selected options), and htmx's headers on
the console's requests.

The server runs in production mode behind the TLS proxy it expects
(``X-Forwarded-Proto: https``), so it marks its cookies ``Secure``. A cookie
jar that follows the rules does not send those back over plain loopback HTTP,
so :class:`Operator` keeps its cookies itself, as the browser on the other
side of the proxy would.
"""

import asyncio
import html
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings
from django.urls import reverse

FORWARDED = {"X-Forwarded-Proto": "https"}
HTMX_DELAY = 0.25  # console.html: hx-trigger="input changed delay:250ms"
ALERTS_EVERY = 5.0  # console.html: hx-trigger="load, every 5s"
BADGE_EVERY = 60.0  # base.html: the inbox badge, hx-trigger="load, every 60s"
MAX_ERRORS = 200  # a scenario stops early past this many: the server is down or refusing


# --- Figures -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank, as bench_dispatch reports it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)] if ordered else math.nan


@dataclass(frozen=True)
class Budget:
    min_rate: float | None = None  # per second
    max_p95_ms: float | None = None

    def text(self, unit: str) -> str:
        if self.min_rate is not None:
            return f">= {self.min_rate:g} {unit}"
        return f"p95 <= {self.max_p95_ms:g} ms"


@dataclass
class Row:
    scenario: str
    seconds: float = 0.0  # the wall time the count was made over
    latencies: list[float] = field(default_factory=list)  # seconds, one per counted item
    unit: str = "req/s"
    budget: Budget | None = None

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def verdict(self) -> str:
        if self.budget is None:
            return ""
        if not self.latencies:
            return "OVER"
        if self.budget.min_rate is not None:
            return "OK" if self.rate >= self.budget.min_rate else "OVER"
        return "OK" if self.p(0.95) <= self.budget.max_p95_ms else "OVER"


@dataclass
class Errors:
    """Unexpected answers (status, transport error, a form sent back with errors)."""

    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.samples) < 10:
            self.samples.append(text)

    def extend(self, other: "Errors") -> None:
        self.count += other.count
        self.samples.extend(other.samples[: 10 - len(self.samples)])


@dataclass
class Result:
    rows: list[Row]
    errors: Errors
    notes: list[str] = field(default_factory=list)


def table(rows: list[Row]) -> str:
    head = ("scenario", "requests", "rate", "p50 ms", "p95 ms", "budget", "")
    lines = [head]
    for r in rows:
        lines.append(
            (
                r.scenario,
                f"{r.count:,}",
                f"{r.rate:.1f} {r.unit}",
                f"{r.p(0.50):.1f}" if r.count else "-",
                f"{r.p(0.95):.1f}" if r.count else "-",
                r.budget.text(r.unit) if r.budget else "-",
                r.verdict,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    right = {1, 2, 3, 4}
    out = []
    for n, line in enumerate(lines):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# --- The browser side ----------------------------------------------------------------------

_ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')
_INPUT = re.compile(r"<input\b([^>]*)>")
_SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
_OPTION = re.compile(r"<option\b([^>]*)>")
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)


def _attrs(text: str) -> dict[str, str]:
    return {k.lower(): html.unescape(v or "") for k, v in _ATTR.findall(text)}


def form_fields(page: str, form_id: str) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """What a browser submits from the form ``form_id`` left as rendered, in
    document order, and each select's option values. Regular expressions, not
    an HTML parser: the order form has ~600 options and the client shares two
    cores with the server."""
    match = re.search(rf'<form\b[^>]*\bid="{re.escape(form_id)}"[^>]*>(.*?)</form>', page, re.S)
    if match is None:
        raise ValueError(f"no form #{form_id} on the page")
    body = match.group(1)
    found: list[tuple[int, str, str]] = []
    options: dict[str, list[str]] = {}
    for m in _INPUT.finditer(body):
        a = _attrs(m.group(1))
        kind = a.get("type", "text").lower()
        if not a.get("name") or "disabled" in a or kind in {"submit", "button", "reset", "file"}:
            continue
        if kind in {"checkbox", "radio"} and "checked" not in a:
            continue
        found.append((m.start(), a["name"], a.get("value", "on" if kind == "checkbox" else "")))
    for m in _SELECT.finditer(body):
        a = _attrs(m.group(1))
        opts = [_attrs(o) for o in _OPTION.findall(m.group(2))]
        if not a.get("name") or "disabled" in a:
            continue
        options[a["name"]] = [o.get("value", "") for o in opts]
        chosen = next((o for o in opts if "selected" in o), opts[0] if opts else None)
        if chosen is not None:
            found.append((m.start(), a["name"], chosen.get("value", "")))
    for m in _TEXTAREA.finditer(body):
        a = _attrs(m.group(1))
        if a.get("name"):
            # Browsers drop the newline right after <textarea> (Django writes one).
            text = html.unescape(m.group(2)).removeprefix("\r\n").removeprefix("\n")
            found.append((m.start(), a["name"], text))
    found.sort()
    return [(name, value) for _pos, name, value in found], options


class Operator:
    """One logged-in browser: its own connections and cookies."""

    def __init__(self, base_url: str, cookies: dict[str, str]):
        self.origin = "https://" + base_url.split("://", 1)[1]  # what the proxy serves
        self.cookies = dict(cookies)
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=30,
            follow_redirects=False,
            headers={
                **FORWARDED,
                "User-Agent": "Mozilla/5.0 (lianxin bench_http)",
                "Accept-Language": "zh-CN,zh;q=0.9",
            },
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def request(
        self, method: str, url: str, *, data=None, headers: dict | None = None
    ) -> tuple[httpx.Response, float]:
        """The response and its latency: sent to the whole body read."""
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            hdrs.setdefault("Origin", self.origin)
        started = time.perf_counter()
        response = await self.client.request(method, url, data=data, headers=hdrs)
        elapsed = time.perf_counter() - started
        for line in response.headers.get_list("set-cookie"):
            pair, _sep, attrs = line.partition(";")
            name, _eq, value = pair.strip().partition("=")
            if "max-age=0" in attrs.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.client.cookies.clear()  # ours above are the only ones sent
        return response, elapsed

    def referer(self, url: str) -> dict[str, str]:
        return {"Referer": self.origin + url}


def _say(response: httpx.Response, url: str) -> str:
    return f"{response.request.method} {url} -> {response.status_code}"


# --- Scenario (a): order intake --------------------------------------------------------------

DESCRIPTIONS = [
    "水龙头漏水，老人独居",
    "需要上门陪诊",
    "家里停电，请尽快",
    "助浴，行动不便",
    "送餐上门",
]


async def _intake_operator(
    op: Operator,
    residents: list[tuple[int, str]],
    rnd: random.Random,
    *,
    until: float,
    land: bool,
    form_row: Row,
    post_row: Row,
    page_row: Row,
    errors: Errors,
    notes: dict[str, int],
    counted: bool = True,
    cycles: int | None = None,
) -> None:
    items: list[str] = []
    done = 0
    while (cycles is None or done < cycles) and time.perf_counter() < until:
        done += 1
        if errors.count >= MAX_ERRORS:
            return
        resident, phone = rnd.choice(residents)
        url = reverse("requests:order_create", args=[resident]) + f"?phone={phone}"
        try:
            resp, took = await op.request("GET", url)
            if resp.status_code != 200:
                errors.add(_say(resp, url))
                continue
            if counted:
                form_row.latencies.append(took)
            fields, options = form_fields(resp.text, "order-form")
            items = items or [v for v in options.get("item", []) if v]
            data = dict(fields)
            data["item"] = rnd.choice(items)
            data["description"] = rnd.choice(DESCRIPTIONS)
            submit_started = time.perf_counter()
            resp, took = await op.request("POST", url, data=data, headers=op.referer(url))
            if resp.status_code == 200 and 'data-testid="merge-offer"' in resp.text:
                # The resident has this item open: the operator confirms a new order
                # (the re-rendered form carries confirm_new=True).
                notes["merge offers confirmed"] = notes.get("merge offers confirmed", 0) + 1
                fields, _options = form_fields(resp.text, "order-form")
                resp, took = await op.request(
                    "POST", url, data=dict(fields), headers=op.referer(url)
                )
            if resp.status_code != 302:
                errors.add(_say(resp, url) + _form_error(resp))
                continue
            if not land:
                if counted:
                    post_row.latencies.append(took)
                continue
            where = resp.headers["location"]
            resp, took = await op.request("GET", where, headers=op.referer(url))
            if resp.status_code != 200:
                errors.add(_say(resp, where))
                continue
            if counted:
                page_row.latencies.append(took)
                post_row.latencies.append(time.perf_counter() - submit_started)
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            errors.add(f"{url}: {exc.__class__.__name__}: {exc}")


def _form_error(response: httpx.Response) -> str:
    if response.status_code != 200:
        return ""
    found = re.search(
        r'class="[^"]*(?:invalid-feedback|alert-danger)[^"]*"[^>]*>(.*?)</(?:span|div)>',
        response.text,
        re.S,
    )
    if found is None:
        return ""
    text = html.unescape(re.sub(r"<[^>]+>|\s+", " ", found.group(1))).strip()
    return f" (form error: {text[:160]})"


async def intake(
    base_url: str,
    cookies: list[dict[str, str]],
    residents: list[tuple[int, str]],
    *,
    seconds: float,
    land: bool,
    rnd: random.Random,
) -> Result:
    """Each operator, without pause: the new-order form for a random resident
    (as the console's link opens it, with the caller's number), then the form
    posted back with an item and a description; with ``land``, the redirect
    followed to the new order's page. One cycle each first, not counted
    (templates compiled, connections opened)."""
    prefix = "intake + land" if land else "intake"
    form_row = Row(f"{prefix}: order form GET")
    if land:
        post_row = Row(f"{prefix}: POST + order page", unit="orders/s", budget=Budget(min_rate=50))
    else:
        post_row = Row(f"{prefix}: POST new order", unit="orders/s", budget=Budget(min_rate=100))
    page_row = Row(f"{prefix}: order page GET")
    errors, notes = Errors(), {}
    ops = [Operator(base_url, c) for c in cookies]
    pairs = [(op, random.Random(rnd.random())) for op in ops]
    rows = dict(form_row=form_row, post_row=post_row, page_row=page_row)

    def run(op: Operator, op_rnd: random.Random, **kwargs):
        return _intake_operator(op, residents, op_rnd, land=land, errors=errors, **rows, **kwargs)

    try:
        await asyncio.gather(
            *(run(op, r, until=math.inf, notes={}, counted=False, cycles=1) for op, r in pairs)
        )
        started = time.perf_counter()
        await asyncio.gather(*(run(op, r, until=started + seconds, notes=notes) for op, r in pairs))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(op.close() for op in ops))
    for row in (form_row, post_row, page_row):
        row.seconds = elapsed
    shown = [form_row, post_row] + ([page_row] if land else [])
    return Result(shown, errors, [f"{prefix}: {v} {k}" for k, v in notes.items()])


# --- Scenario (b): typing into the console ----------------------------------------------------


def _htmx(op: Operator, page: str, target: str, trigger: str | None, csrf: str) -> dict:
    headers = {
        "HX-Request": "true",
        "HX-Current-URL": op.origin + page,
        "HX-Target": target,
        "X-CSRFToken": csrf,  # base.html: hx-headers on <body>
    }
    if trigger:
        headers |= {"HX-Trigger": trigger, "HX-Trigger-Name": trigger}
    return headers


async def _poll(
    op: Operator, url: str, headers: dict, every: float, row: Row | None, errors: Errors
) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            resp, took = await op.request("GET", url, headers=headers)
        except httpx.HTTPError as exc:
            errors.add(f"{url}: {exc.__class__.__name__}: {exc}")
            continue
        if resp.status_code != 200:
            errors.add(_say(resp, url))
        elif row is not None:
            row.latencies.append(took)


async def _typist(
    op: Operator,
    numbers: list[str],
    rnd: random.Random,
    *,
    until: float,
    lookup_row: Row,
    alerts_row: Row,
    errors: Errors,
) -> None:
    page, lookup = reverse("requests:console"), reverse("requests:console_lookup")
    alerts, badge = reverse("requests:console_alerts"), reverse("center:inbox_badge")
    try:
        resp, _took = await op.request("GET", page)
        if resp.status_code != 200:
            errors.add(_say(resp, page))
            return
        found = re.search(r'"X-CSRFToken": "([^"]+)"', resp.text)
        csrf = found.group(1) if found else ""
        type_headers = _htmx(op, page, "matches", "phone", csrf)
        alert_headers = _htmx(op, page, "alerts", "alerts", csrf)
        badge_headers = _htmx(op, page, "", None, csrf)
        # The page's own hx-trigger="load" requests, then its polls.
        for url, headers in (
            (f"{lookup}?phone=", type_headers),
            (alerts, alert_headers),
            (badge, badge_headers),
        ):
            resp, _took = await op.request("GET", url, headers=headers)
            if resp.status_code != 200:
                errors.add(_say(resp, url))
    except httpx.HTTPError as exc:
        errors.add(f"{page}: {exc.__class__.__name__}: {exc}")
        return
    polls = [
        asyncio.create_task(_poll(op, alerts, alert_headers, ALERTS_EVERY, alerts_row, errors)),
        asyncio.create_task(_poll(op, badge, badge_headers, BADGE_EVERY, None, errors)),
    ]
    try:
        while time.perf_counter() < until and errors.count < MAX_ERRORS:
            number = rnd.choice(numbers)
            # Most callers' numbers are typed whole; some operators search the last
            # four digits (尾号) a caller gives.
            typed = number if rnd.random() < 0.8 else number[-4:]
            key_at = time.perf_counter()
            for n in range(1, len(typed) + 1):
                if time.perf_counter() >= until:
                    break
                # One digit every 260-400 ms: each keystroke outlasts htmx's 250 ms
                # delay, so each one sends a request (the heaviest case). One
                # request at a time per input: htmx queues the last.
                fire_at = max(key_at + HTMX_DELAY, time.perf_counter())
                await asyncio.sleep(fire_at - time.perf_counter())
                url = f"{lookup}?phone={typed[:n]}"
                try:
                    resp, took = await op.request("GET", url, headers=type_headers)
                except httpx.HTTPError as exc:
                    errors.add(f"{url}: {exc.__class__.__name__}: {exc}")
                    continue
                if resp.status_code != 200:
                    errors.add(_say(resp, url))
                else:
                    lookup_row.latencies.append(took)
                key_at += rnd.uniform(0.26, 0.40)
            # The operator reads the matches and talks to the caller.
            await asyncio.sleep(min(rnd.uniform(1.0, 2.0), max(until - time.perf_counter(), 0)))
    finally:
        for task in polls:
            task.cancel()
        await asyncio.gather(*polls, return_exceptions=True)


async def typing(
    base_url: str,
    cookies: list[dict[str, str]],
    numbers: list[str],
    *,
    seconds: float,
    rnd: random.Random,
) -> Result:
    """Each operator opens the console (and its htmx loads), then types
    residents' numbers digit by digit while the page polls its alerts every 5 s."""
    lookup_row = Row("console: lookup as typed", budget=Budget(max_p95_ms=50))
    alerts_row = Row("console: alerts poll (5 s)")
    errors = Errors()
    ops = [Operator(base_url, c) for c in cookies]
    try:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _typist(
                    op,
                    numbers,
                    random.Random(rnd.random()),
                    until=started + seconds,
                    lookup_row=lookup_row,
                    alerts_row=alerts_row,
                    errors=errors,
                )
                for op in ops
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(op.close() for op in ops))
    lookup_row.seconds = alerts_row.seconds = elapsed
    return Result([lookup_row, alerts_row], errors)


# --- The server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collect_static(env: dict[str, str]) -> None:
    """Production's manifest storage needs collected files: ``{% static %}``
    fails without the manifest."""
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"collectstatic failed:\n{done.stdout}{done.stderr}")


class Gunicorn:
    """gunicorn in its own process group on a free loopback port; stopped
    (SIGTERM to the group, then SIGKILL) however the block ends."""

    def __init__(
        self, *, env: dict[str, str], log: Path, workers: int, worker_class: str, threads: int
    ):
        self.env, self.log = env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [
            sys.executable, "-m", "gunicorn", "center.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--threads", str(threads if worker_class == "gthread" else 1),
            "--graceful-timeout", "5",
            "--keep-alive", "5",
            # gunicorn's control socket is one path per user (~/.gunicorn):
            # two runs, or another gunicorn, would take it from each other.
            "--no-control-socket",
        ]  # fmt: skip
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped as one
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline, last = time.monotonic() + timeout, "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                resp = httpx.get(f"{self.url}/healthz", headers=FORWARDED, timeout=5)
                if resp.status_code == 200:
                    return
                last = f"/healthz answered {resp.status_code}: {resp.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{exc.__class__.__name__}: {exc}"
            time.sleep(0.2)
        raise RuntimeError(
            f"gunicorn did not answer in {timeout:.0f} s ({last}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.proc is None:
            return []
        return [self.proc.pid, *_children(self.proc.pid)]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- Where the CPU went --------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...


def _cpu(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK if fields else 0.0


def _children(ppid: int) -> list[int]:
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == ppid:
                out.append(int(entry.name))
    return out


def _machine_busy() -> tuple[float, float]:
    """Seconds of CPU busy and in total, all cores, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])
    return (total - values[3] - values[4]) / _TICK, total / _TICK


class CpuMeter:
    """CPU seconds per group of processes (gunicorn, PostgreSQL backends) and
    this client process, and the whole machine's busy cores, over one scenario."""

    def __init__(self, groups: dict[str, Callable[[], Iterable[int]]]):
        self.groups = groups

    def start(self) -> None:
        self.before = {
            name: {pid: _cpu(pid) for pid in pids()} for name, pids in self.groups.items()
        }
        self.client0, self.machine0 = time.process_time(), _machine_busy()
        self.wall0 = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """Seconds of CPU per group and for this client, the wall time, and
        the whole machine's busy cores on average."""
        wall = time.perf_counter() - self.wall0
        used = {"wall": wall}
        for name, pids in self.groups.items():
            before = self.before[name]
            # A process gone since the start counts for nothing (not a negative).
            used[name] = sum(
                max(_cpu(pid) - before.get(pid, 0.0), 0.0) for pid in {*pids(), *before}
            )
        used["client"] = time.process_time() - self.client0
        busy, total = _machine_busy()
        used["machine"] = (
            (busy - self.machine0[0]) / max(total - self.machine0[1], 1e-9) * (os.cpu_count() or 1)
        )
        return used
