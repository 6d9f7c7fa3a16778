"""Settings read the environment in one place and refuse malformed values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k3J#9vQ!x2Lm@8pR$5tW^1zY&7bN*4cF(6hD)0gS-ZuE+iO=aP"


def run_manage(*args, **env):
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))
    }
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is malformed"),
        ({"DJANGO_ENV": "staging"}, "DJANGO_ENV='staging' is malformed"),
        ({"DATABASE_URL": "mysqlx://nowhere"}, "DATABASE_URL='mysqlx://nowhere' is malformed"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379' is malformed"),
        ({"LIANXIN_COUNT_CAP": "lots"}, "LIANXIN_COUNT_CAP='lots' is malformed"),
        (
            {"DJANGO_ENV": "production", "DJANGO_ALLOWED_HOSTS": "portal.example"},
            "DJANGO_SECRET_KEY",
        ),
        ({"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": GOOD_SECRET}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_malformed_environment_stops_startup_with_a_clear_message(env, message):
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_mode_passes_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=GOOD_SECRET,
        DJANGO_ALLOWED_HOSTS="portal.example",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_development_mode_would_fail_check_deploy():
    # Proves the production test above can fail: development settings are not deployable.
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0


def test_without_database_url_the_portal_uses_a_sqlite_file():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])",
    )
    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()[-2:]
    assert engine == "django.db.backends.sqlite3"
    assert name == str(ROOT / "db.sqlite3")


def test_database_url_selects_postgresql_with_optional_pool():
    code = "from django.conf import settings; d=settings.DATABASES['default']; print(d['ENGINE'], d['NAME'], 'pool' in d.get('OPTIONS', {}))"
    result = run_manage(
        "shell",
        "-c",
        code,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/lianxin",
        DATABASE_POOL="on",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["django.db.backends.postgresql", "lianxin", "True"]


def test_without_redis_url_celery_runs_tasks_eagerly():
    code = "from center.celery import app; print(app.conf.task_always_eager, app.conf.broker_url)"
    result = run_manage("shell", "-c", code)
    assert result.stdout.split()[-2:] == ["True", "memory://"]
    result = run_manage("shell", "-c", code, REDIS_URL="redis://127.0.0.1:6379/3")
    assert result.stdout.split()[-2:] == ["False", "redis://127.0.0.1:6379/3"]


SQLITE_TWO_WRITERS = """
import threading, time
from django.db import connection, connections, transaction
with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS t (x int)")
errors = []
def work():
    try:
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute("SELECT count(*) FROM t")
                time.sleep(0.3)
                c.execute("INSERT INTO t VALUES (1)")
    except Exception as e:
        errors.append(repr(e))
    finally:
        connections.close_all()
threads = [threading.Thread(target=work) for _ in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
with connection.cursor() as c:
    c.execute("SELECT count(*) FROM t")
    print("ERRORS", errors, "ROWS", c.fetchone()[0])
"""


def test_the_embedded_sqlite_default_serialises_two_writers(tmp_path):
    """A form posted twice at once on the SQLite default: the second request
    waits for the first (IMMEDIATE transactions) instead of failing with
    "database is locked" (a 500 on the demo before)."""
    db = tmp_path / "two.sqlite3"
    result = run_manage("shell", "-c", SQLITE_TWO_WRITERS, DATABASE_URL=f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert "ERRORS [] ROWS 2" in result.stdout, result.stdout + result.stderr
