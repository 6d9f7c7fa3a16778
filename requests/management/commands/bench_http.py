"""Issue 10's load test over HTTP: gunicorn (2 workers) on loopback, bounded in time.

Three scenarios, each ``--seconds`` long, run by a small asyncio client
(requests/bench/http_load.py) against the current database:

- intake: ``--operators`` operators, each without pause opening the new-order
  form for a random resident and posting it (budget >= 100 orders/s);
- intake + land: the same, following the redirect to the new order's page
  (budget >= 50 orders/s);
- console: ``--typists`` operators typing residents' numbers digit by digit
  into the console's htmx lookup (budget p95 <= 50 ms).

It creates orders, so it runs only on a PostgreSQL database whose name
contains "bench" (or a test database when told so)::

    createdb -h 127.0.0.1 -U postgres lianxin_bench_b
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lianxin_bench_b
    python manage.py migrate
    export LIANXIN_DEMO_VOLUNTEERS=500 LIANXIN_DEMO_ORDER_DAYS=20 LIANXIN_DEMO_ORDERS_PER_DAY=50
    python manage.py seed_demo
    python manage.py bench_http            # --scenario typing --worker-class sync ...

The operators are users ``bench-http-NN`` (role operator, no usable
password), logged in by writing their sessions directly (the session engine's
own store, signed with the server's key): the bench times intake, not
password hashing. Budgets are reported, not enforced: the command fails only
when a request fails. The figures are in docs/performance.md ("Load over HTTP").
"""

import asyncio
import concurrent.futures
import logging
import os
import random
import secrets
import signal
import tempfile
from importlib import import_module
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings

from center.models import Role, User
from requests.bench import http_load
from requests.models import ResidentPhone

SCENARIOS = ("intake", "land", "typing")
HOW_TO = (
    "Run it on its own PostgreSQL database, whose name contains 'bench':\n"
    "  createdb -h 127.0.0.1 -U postgres lianxin_bench_b\n"
    "  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lianxin_bench_b\n"
    "  python manage.py migrate && python manage.py seed_demo && python manage.py bench_http"
)


def _cpu_line(scenario: str, used: dict[str, float], rows: list) -> str:
    """Cores busy on average per side, and the server's CPU per counted item
    (the scenario's budgeted row): the figure that holds on a busy machine."""
    wall = used["wall"]
    main = next((row for row in rows if row.budget), rows[0])
    unit = "order" if main.unit == "orders/s" else "request"
    per = ", ".join(
        f"{name} {used[name] * 1000 / max(main.count, 1):.1f}" for name in ("gunicorn", "postgres")
    )
    return (
        f"{scenario}: cores busy over {wall:.0f} s: gunicorn {used['gunicorn'] / wall:.2f}, "
        f"postgres {used['postgres'] / wall:.2f}, client {used['client'] / wall:.2f}, whole "
        f"machine {used['machine']:.2f} of {os.cpu_count()}; CPU ms per {unit}: {per}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def _raise_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the finally that stops gunicorn


def _run_coroutine(coro):
    """``asyncio.run`` here, or in a thread of its own when this thread
    already runs an event loop (Playwright's sync API in the same test
    session does): the client's loop must not nest in another."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Command(BaseCommand):
    help = (
        "Load test over HTTP: gunicorn on loopback, operators taking orders and typing "
        "numbers into the console; prints rates and latencies against the budgets."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=20, help="per scenario (20)")
        parser.add_argument(
            "--warmup",
            type=float,
            default=3,
            help="seconds of uncounted intake first, landing on the order page: each "
            "worker compiles its templates and opens its connections (3)",
        )
        parser.add_argument("--operators", type=int, default=4, help="taking orders at once (4)")
        parser.add_argument("--typists", type=int, default=20, help="typing at the console (20)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
        parser.add_argument(
            "--worker-class",
            choices=["gthread", "sync"],
            default="gthread",
            help="gunicorn worker class (gthread: keep-alive, and one thread's database "
            "wait overlaps another's Python)",
        )
        parser.add_argument("--threads", type=int, default=4, help="per gthread worker (4)")
        parser.add_argument(
            "--scenario",
            action="append",
            choices=SCENARIOS,
            help="run only these (repeatable; default: all three)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            help="repeat a run's random choices (default: fresh ones; the same residents "
            "and items again meet their open orders and get merge offers)",
        )
        parser.add_argument(
            "--i-know-this-is-a-test-database",
            dest="test_database",
            action="store_true",
            help="allow a database named test_* (the test suite's)",
        )

    def _check_database(self, test_database: bool) -> str:
        name = connection.settings_dict["NAME"] or ""
        if connection.vendor != "postgresql":
            raise CommandError(f"bench_http needs PostgreSQL, not {connection.vendor}.\n{HOW_TO}")
        if "bench" in name or (test_database and name.startswith("test_")):
            return name
        raise CommandError(
            f"Refusing to run on database {name!r}: this command creates orders.\n{HOW_TO}"
        )

    def handle(self, *args, **opts):
        name = self._check_database(opts["test_database"])
        if opts["seconds"] <= 0 or min(opts["operators"], opts["typists"], opts["workers"]) < 1:
            raise CommandError("--seconds, --operators, --typists and --workers must be positive.")
        scenarios = opts["scenario"] or list(SCENARIOS)
        # httpx logs every request at INFO through the project's root handler.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        residents = list(
            ResidentPhone.objects.exclude(resident__address="")
            .order_by("?")
            .values_list("resident_id", "number")[:5000]
        )
        if not residents:
            raise CommandError(f"No resident with a phone and an address in {name!r}.\n{HOW_TO}")
        # Letters, digits, - and _: django-environ reads a value starting with "$"
        # as the name of another variable (get_random_secret_key() may give one).
        secret = secrets.token_urlsafe(48)
        out = self.stdout.write
        out(
            f"Database {name}; gunicorn {opts['workers']} {opts['worker_class']} workers"
            + (f" x {opts['threads']} threads" if opts["worker_class"] == "gthread" else "")
            + f"; {opts['seconds']:g} s per scenario; load average "
            + " ".join(f"{v:.2f}" for v in os.getloadavg())
        )
        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _raise_on_sigterm)
        cookies: list[dict[str, str]] = []
        try:
            self._sessions(max(opts["operators"], opts["typists"]), secret, cookies)
            results, cpu, log = self._run(name, secret, cookies, residents, scenarios, opts)
        except RuntimeError as exc:  # collectstatic or gunicorn would not start
            raise CommandError(str(exc)) from exc
        finally:
            signal.signal(signal.SIGTERM, previous)
            self._end_sessions(cookies, secret)
        rows = [row for result in results for row in result.rows]
        out("")
        out(http_load.table(rows))
        out("")
        for line in cpu:
            out(line)
        for result in results:
            for note in result.notes:
                out(note)
        errors = http_load.Errors()
        for result in results:
            errors.extend(result.errors)
        if errors.count:
            raise CommandError(
                f"{errors.count} requests failed, e.g.:\n  "
                + "\n  ".join(errors.samples)
                + f"\ngunicorn's log, last lines:\n{log}"
            )

    def _run(self, name, secret, cookies, residents, scenarios, opts):
        numbers = [number for _pk, number in residents]
        rnd = random.Random(opts["seed"])
        with tempfile.TemporaryDirectory(prefix="lianxin-bench-http-") as tmp:
            env = self._child_env(name, secret, Path(tmp) / "static")
            http_load.collect_static(env)
            server = http_load.Gunicorn(
                env=env,
                log=Path(tmp) / "gunicorn.log",
                workers=opts["workers"],
                worker_class=opts["worker_class"],
                threads=opts["threads"],
            )
            meter = http_load.CpuMeter({"gunicorn": server.pids, "postgres": self._backends})
            results, cpu = [], []
            with server:
                if opts["warmup"] > 0:
                    warm = http_load.intake(
                        server.url,
                        cookies[: opts["operators"]],
                        residents,
                        seconds=opts["warmup"],
                        land=True,
                        rnd=rnd,
                    )
                    results.append(http_load.Result([], _run_coroutine(warm).errors))
                for scenario in scenarios:
                    meter.start()
                    if scenario == "typing":
                        run = http_load.typing(
                            server.url,
                            cookies[: opts["typists"]],
                            numbers,
                            seconds=opts["seconds"],
                            rnd=rnd,
                        )
                    else:
                        run = http_load.intake(
                            server.url,
                            cookies[: opts["operators"]],
                            residents,
                            seconds=opts["seconds"],
                            land=scenario == "land",
                            rnd=rnd,
                        )
                    results.append(_run_coroutine(run))
                    cpu.append(_cpu_line(scenario, meter.stop(), results[-1].rows))
            return results, cpu, server.log_tail()

    # --- the server's environment and the operators' sessions -------------------------------

    def _child_env(self, name: str, secret: str, static_root: Path) -> dict[str, str]:
        """Production settings (center/settings.py reads them): DEBUG off, the
        manifest static storage, secure cookies; TLS is the proxy's, so no
        redirect to https. The database is the one this command checked."""
        db = connection.settings_dict
        user = quote(db["USER"] or "", safe="")
        password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
        host = quote(db["HOST"] or "", safe="")
        port = f":{db['PORT']}" if db["PORT"] else ""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "center.settings",
            "DJANGO_ENV": "production",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secret,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_STATIC_ROOT": str(static_root),
            "DJANGO_LOG_LEVEL": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
            "DATABASE_URL": f"postgres://{user}{password}@{host}{port}/{quote(name, safe='')}",
        }

    def _sessions(self, count: int, secret: str, cookies: list[dict[str, str]]) -> None:
        """One logged-in session per operator, as ``django.contrib.auth.login``
        leaves it, signed with the key the server will run with; each cookie
        is added to ``cookies`` as it is made (the caller ends them all)."""
        store = import_module(settings.SESSION_ENGINE).SessionStore
        with override_settings(SECRET_KEY=secret):
            for n in range(1, count + 1):
                user, created = User.objects.get_or_create(
                    username=f"bench-http-{n:02d}",
                    defaults={"role": Role.OPERATOR, "full_name": f"压测接线员{n:02d}"},
                )
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                elif user.role != Role.OPERATOR or not user.is_active:
                    raise CommandError(
                        f"User {user.username} exists but is not an active operator."
                    )
                session = store()
                session[SESSION_KEY] = user._meta.pk.value_to_string(user)
                # The project's own backend (the first, django-axes', only refuses).
                session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
                session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                session.create()
                cookies.append({settings.SESSION_COOKIE_NAME: session.session_key})

    def _end_sessions(self, cookies: list[dict[str, str]], secret: str) -> None:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        with override_settings(SECRET_KEY=secret):
            for cookie in cookies:
                store(cookie[settings.SESSION_COOKIE_NAME]).delete()

    def _backends(self) -> list[int]:
        """PostgreSQL backends serving this database, this command's own aside."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [pid for (pid,) in cursor.fetchall()]
