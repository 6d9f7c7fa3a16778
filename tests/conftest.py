"""Shared fixtures: one user per role plus an outsider who must be refused everywhere,
and the service checks that skip (locally) or fail (CI) tests needing PostgreSQL,
Redis or Chromium."""

import os
import shutil

import pytest
from django.conf import settings

from center.celery import app as celery_app
from center.models import Role, Station
from tests.factories import DistrictFactory, StationFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# calls from the live server and fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("LIANXIN_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _missing(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (LIANXIN_REQUIRE_SERVICES=1: CI must not skip)", pytrace=False)
    pytest.skip(reason)


def _redis_up() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    """Tests create many users: a cheap hasher keeps fixtures fast (never in settings.py)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _service_markers(request):
    if request.node.get_closest_marker("postgres") and settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        _missing("needs PostgreSQL: set DATABASE_URL")
    if request.node.get_closest_marker("redis") and not _redis_up():
        _missing("needs Redis: set REDIS_URL to a running server")
    if request.node.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        _missing("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(autouse=True)
def _cold_option_lists(monkeypatch):
    """Pickers read their options every time (center.forms keeps them a minute
    in production): pinned query counts count the cold case."""
    from center import forms as center_forms

    center_forms._options_cache.clear()
    monkeypatch.setattr(center_forms, "OPTIONS_TTL", 0)


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run inline in tests; the Redis test starts a real worker itself."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path_factory):
    """Uploads (wish photos) and report files go to a temporary folder,
    never var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.MEDIA_ROOT / "reports")},
        },
    }


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    if not settings.REDIS_URL:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def district(db):
    return DistrictFactory(code="330402", name="南湖区")


@pytest.fixture
def center_station(db, district):
    return StationFactory(
        code="JX-CENTER",
        name="嘉兴市党员志愿服务中心",
        kind=Station.Kind.CENTER,
        parent=None,
        district=district,
    )


@pytest.fixture
def station(db, center_station, district):
    return StationFactory(
        code="BR-A", name="建设街道分站", parent=center_station, district=district
    )


@pytest.fixture
def other_station(db, center_station):
    return StationFactory(
        code="BR-B",
        name="新城街道分站",
        parent=center_station,
        district=DistrictFactory(code="330411", name="秀洲区"),
    )


@pytest.fixture
def operator(db):
    return UserFactory(username="op", role=Role.OPERATOR)


@pytest.fixture
def station_manager(db, station):
    return UserFactory(username="sm", role=Role.STATION_MANAGER, stations=[station])


@pytest.fixture
def center_manager(db):
    return UserFactory(username="cm", role=Role.CENTER_MANAGER, is_staff=True, is_superuser=True)


@pytest.fixture
def volunteer_user(db):
    return UserFactory(username="vol", role=Role.VOLUNTEER)


@pytest.fixture
def outsider(db):
    """Logged in, but holds no role: refused on every staff page."""
    return UserFactory(username="outsider", role="")


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


# Playwright: Debian's Chromium, never a downloaded browser.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        _missing("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}
