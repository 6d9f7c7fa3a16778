"""Lianxin settings: the one place that reads the environment.

Every variable has a safe development default; a malformed value stops start-up
with a message naming the variable (see ``_fail``). ``DJANGO_ENV=production``
tightens security so that ``manage.py check --deploy`` is clean.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _fail(name: str, value: str, expected: str) -> None:
    raise ImproperlyConfigured(
        f"Environment variable {name}={value!r} is malformed: expected {expected}."
    )


def env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _fail(name, raw, "one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        _fail(name, raw, "a whole number")
    if value < minimum:
        _fail(name, raw, f"a whole number >= {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DJANGO_ENV = env.str("DJANGO_ENV", default="development").strip().lower()
if DJANGO_ENV not in {"development", "test", "production"}:
    _fail("DJANGO_ENV", DJANGO_ENV, "development, test or production")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    _fail("DJANGO_DEBUG", "true", "false in production")

_DEV_SECRET = "django-insecure-lianxin-development-only-never-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=None) or (None if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (
    not SECRET_KEY
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure")
):
    _fail(
        "DJANGO_SECRET_KEY", "<hidden>", "a random string of at least 50 characters in production"
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    _fail("DJANGO_ALLOWED_HOSTS", "", "a comma-separated list of host names in production")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    "phonenumber_field",
    "django_celery_beat",
    "axes",
    "csp",
    "center",
    "volunteers",
    "requests",
    "events",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "center.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "center.input_guard.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "center.urls"
WSGI_APPLICATION = "center.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "center.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# Unset DATABASE_URL: a SQLite file in the project folder, no server to start.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    _db = environ.Env.db_url_config(DATABASE_URL)
except Exception as exc:  # django-environ raises several types for a bad URL
    _fail(
        "DATABASE_URL",
        DATABASE_URL,
        f"a database URL such as postgres://user@host:5432/name ({exc})",
    )
if _db.get("ENGINE") not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
    _fail("DATABASE_URL", DATABASE_URL, "a postgres:// or sqlite:// URL")
if "postgresql" in _db["ENGINE"]:
    # Django's psycopg 3 pool: one pool per process; persistent connections
    # (CONN_MAX_AGE) and the pool exclude each other.
    if env_bool("DATABASE_POOL", default=False):
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2),
            "max_size": env_int("DATABASE_POOL_MAX", 10, minimum=1),
        }
        _db["CONN_MAX_AGE"] = 0
    else:
        _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        _db["CONN_HEALTH_CHECKS"] = True
    # The portal's queries are short and indexed: PostgreSQL's JIT compiler
    # only adds 100-200 ms when a plan's estimated cost crosses its threshold
    # (measured on the dispatch ranking, docs/performance.md).
    if not env_bool("DATABASE_JIT", default=False):
        _db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    # The embedded default serves a few users, but two requests still write at
    # once (a form posted twice): IMMEDIATE takes the write lock at BEGIN, so
    # the second waits its turn (up to 20 s) instead of failing with
    # "database is locked" when it upgrades a read lock mid-transaction.
    _db.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    _fail("REDIS_URL", REDIS_URL, "a redis:// URL such as redis://127.0.0.1:6379/0")

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # No server: a file cache shared by runserver and the beat process, and
    # eager tasks. `make run` starts celery beat beside runserver; with eager
    # tasks beat runs each periodic job in its own process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
# A worker killed mid-task: with acks_late the message stays unacknowledged and
# Redis redelivers it after the visibility timeout. Redis's default is one hour;
# 15 minutes redelivers within minutes yet stays longer than the longest
# countdown we schedule (an offer ring waits at most 600 s): a countdown longer
# than the visibility timeout would be delivered twice. Tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900, minimum=60),
    # Publishing while Redis is down must fail fast (center/broker.py logs it).
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # One connection attempt per publish: kombu otherwise retries for
    # BROKER_CONNECTION_TIMEOUT (2 s) on every message of the outbox. The
    # worker reconnects by broker_connection_max_retries, not this.
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Three queues, so SMS and email workers can run on their own machines and a
# slow gateway never holds up dispatch: "celery" (the default: orders, sweeps,
# reminders), "sms" and "email" (docs/notifications.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "center.tasks.send_sms": {"queue": "sms"},
    "center.tasks.send_email": {"queue": "email"},
    # Report files take seconds to minutes each: never ahead of dispatch work.
    "reports.tasks.write_report": {"queue": "reports"},
    "reports.tasks.monthly_report": {"queue": "reports"},
}
# The periodic schedule lives in one place: center/celery.py (BEAT_SCHEDULE).

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "center.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "center.auth.MobileOrUsernameBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "center:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout (django-axes). Failed logins are counted per account, under one
# key whichever way the login was typed (mobile or username: center.auth.lockout_key),
# in the database, where a center manager sees and lifts them in the back office
# (Access attempts). Not per address: operators of a station share one office
# address, and one mistyping colleague must not lock the others out.
AXES_FAILURE_LIMIT = env_int("LIANXIN_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LIANXIN_LOGIN_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "center.auth.lockout_key"
AXES_LOCKOUT_CALLABLE = "center.auth.lockout_response"
# axes.W006 warns that a lockout without the address lets an attacker rotate
# user agents; we lock by account only, on purpose (above), so there is nothing to rotate.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- Languages and time ---------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = "CN"

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` gathers the files (WhiteNoise serves them from there).
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
# Uploads (wish photos): under var/media in development; production may point
# DJANGO_MEDIA_ROOT elsewhere or replace STORAGES["default"] with any storage.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default="") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Exported reports (issue 14): never under MEDIA_URL; served by a scoped view.
    "reports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(
                Path(env.str("LIANXIN_REPORTS_ROOT", default="") or MEDIA_ROOT / "reports")
            ),
            "base_url": None,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Domain settings (local rules are settings, not constants) ------------
LIANXIN = {
    # Pages of big lists stop counting past this many rows ("1,000+"): counting
    # 10,000 matching rows cost ~13 ms a page view at city size (issue 10), a
    # thousand ~1.5 ms, and "1,000+" tells a reader as much.
    "COUNT_CAP": env_int("LIANXIN_COUNT_CAP", 1000, minimum=100),
    "DEMO_PASSWORD": env.str("LIANXIN_DEMO_PASSWORD", default="lianxin-demo-2026"),
    "DEMO_VOLUNTEERS": env_int("LIANXIN_DEMO_VOLUNTEERS", 2400, minimum=100),
    "DEMO_ORDER_DAYS": env_int("LIANXIN_DEMO_ORDER_DAYS", 120, minimum=1),
    "DEMO_ORDERS_PER_DAY": env_int("LIANXIN_DEMO_ORDERS_PER_DAY", 80, minimum=10),
    # The item a one-key device call becomes (居家上门：一键通 → 上门探访/照护).
    "DEVICE_ITEM_CODE": env.str("LIANXIN_DEVICE_ITEM_CODE", default="ELDERCARE-03"),
    # Star levels by accumulated verified hours: one to five stars.
    "STAR_THRESHOLDS": (100, 300, 600, 1000, 1500),
    # The sanction ladder (DOMAIN.md): valid complaints counted over a window;
    # the nth valid complaint gives the nth step. Months without orders; None = removal.
    "SANCTION_WINDOW_DAYS": env_int("LIANXIN_SANCTION_WINDOW_DAYS", 365, minimum=1),
    "SANCTION_LADDER": (("warning", 1), ("yellow", 3), ("red", None)),
    # Dispatch: straight-line distance at this speed gives the travel minutes.
    "DISPATCH_SPEED_KMH": env_int("LIANXIN_DISPATCH_SPEED_KMH", 15, minimum=1),
    "DISPATCH_RADIUS_KM": env_int("LIANXIN_DISPATCH_RADIUS_KM", 5, minimum=1),
    "DISPATCH_TARGET_MINUTES": env_int("LIANXIN_DISPATCH_TARGET_MINUTES", 10, minimum=1),
    # A provider with this many open orders is not offered another.
    "PROVIDER_MAX_OPEN_ORDERS": env_int("LIANXIN_PROVIDER_MAX_OPEN_ORDERS", 3, minimum=1),
    # A 7–8 digit number typed without an area code is a local landline (Jiaxing: 0573).
    "LOCAL_AREA_CODE": env.str("LIANXIN_LOCAL_AREA_CODE", default="0573"),
    # One-key devices: a repeat press (or a retry) within this window returns the
    # open emergency order instead of creating another; calls per device and per
    # source address are limited per minute; refused calls are logged up to a cap.
    "DEVICE_REPEAT_WINDOW_SECONDS": env_int("LIANXIN_DEVICE_REPEAT_WINDOW_SECONDS", 1800),
    "DEVICE_CALLS_PER_MINUTE": env_int("LIANXIN_DEVICE_CALLS_PER_MINUTE", 6, minimum=1),
    "DEVICE_ADDRESS_CALLS_PER_MINUTE": env_int(
        "LIANXIN_DEVICE_ADDRESS_CALLS_PER_MINUTE", 60, minimum=1
    ),
    "DEVICE_MAX_BODY_BYTES": env_int("LIANXIN_DEVICE_MAX_BODY_BYTES", 4096, minimum=256),
    # Raw rows of an import (names, mobiles, ID numbers) are deleted once applied,
    # and after this many days when never applied.
    "IMPORT_RETENTION_DAYS": env_int("LIANXIN_IMPORT_RETENTION_DAYS", 7, minimum=1),
    # Providers set their password with a one-time code (center.accounts): it
    # lives this many hours, allows this many tries per mobile number (and ten
    # times as many per address) per window, and dies after this many wrong tries.
    "ACTIVATION_CODE_HOURS": env_int("LIANXIN_ACTIVATION_CODE_HOURS", 72, minimum=1),
    "ACTIVATION_ATTEMPTS": env_int("LIANXIN_ACTIVATION_ATTEMPTS", 5, minimum=1),
    "ACTIVATION_WINDOW_SECONDS": env_int("LIANXIN_ACTIVATION_WINDOW_SECONDS", 900, minimum=60),
    "ACTIVATION_MAX_FAILURES": env_int("LIANXIN_ACTIVATION_MAX_FAILURES", 10, minimum=1),
    # Dotted path of a callable(mobile, code, expires_at) that texts a new code
    # to the provider after commit (the SMS channel); empty: staff hand it over.
    "ACTIVATION_SMS_SENDER": env.str("LIANXIN_ACTIVATION_SMS_SENDER", default=""),
    # Login records (django-axes AccessLog) are access logs: kept at least 6 months.
    "LOGIN_LOG_RETENTION_DAYS": env_int("LIANXIN_LOGIN_LOG_RETENTION_DAYS", 183, minimum=183),
    "OFFER_SIZE": env_int("LIANXIN_OFFER_SIZE", 5, minimum=1),
    "OFFER_MAX_RINGS": 3,
    # Seconds an offer waits before it widens to the next ring, per urgency.
    "OFFER_TIMEOUT_SECONDS": {"emergency": 60, "urgent": 180, "normal": 600},
    # Minutes after which an open order is flagged yellow (near the limit) and red (past it).
    "ORDER_LIMIT_MINUTES": {"emergency": (10, 30), "urgent": (30, 120), "normal": (120, 1440)},
    # Who certifies service records: the center's name, and the name (not the
    # title) of the person in charge who signs (负责人). Empty: the certificate
    # leaves the line blank, to be signed by hand.
    "CERTIFICATE_ISSUER": env.str("LIANXIN_CERTIFICATE_ISSUER", default="嘉兴市党员志愿服务中心"),
    "CERTIFICATE_SIGNATORY": env.str("LIANXIN_CERTIFICATE_SIGNATORY", default="").strip(),
    # Special groups and care (issue 11).
    # Days between a paired member's visits when the pairing does not say.
    "CARE_VISIT_CADENCE_DAYS": env_int("LIANXIN_CARE_VISIT_CADENCE_DAYS", 14, minimum=1),
    # A special-group resident with no visit, call or order for this many days is "silent".
    "CARE_SILENT_DAYS": env_int("LIANXIN_CARE_SILENT_DAYS", 30, minimum=1),
    # A volunteer turns a visit's need into an order or a wish within this many days of it.
    "CARE_NEED_DAYS": env_int("LIANXIN_CARE_NEED_DAYS", 7, minimum=1),
    # The PIPL access log (center.pii.revealed / center.pii.exported): kept at
    # least 6 months, older rows purged daily.
    "PII_LOG_RETENTION_DAYS": env_int("LIANXIN_PII_LOG_RETENTION_DAYS", 183, minimum=183),
    # Micro-wishes: days the adopter has to contact the family; photo upload limit.
    "WISH_CONTACT_DAYS": env_int("LIANXIN_WISH_CONTACT_DAYS", 7, minimum=1),
    "WISH_PHOTO_MAX_BYTES": env_int("LIANXIN_WISH_PHOTO_MAX_BYTES", 5 * 1024 * 1024, minimum=1024),
    # The monthly service day (issue 12): its default theme.
    "SERVICE_DAY_THEME": env.str("LIANXIN_SERVICE_DAY_THEME", default="党在我心中·我在群众中"),
    # Days a rolled-over wish stays on the wall in its next round.
    "WISH_ROUND_DAYS": env_int("LIANXIN_WISH_ROUND_DAYS", 30, minimum=1),
    # --- Messages that leave the portal (issue 13; docs/notifications.md) ---
    # The SMS backend: center.sms.ConsoleBackend logs; center.sms.HttpGatewayBackend
    # posts to a gateway with the settings below.
    "SMS_BACKEND": env.str("LIANXIN_SMS_BACKEND", default="center.sms.ConsoleBackend"),
    "SMS_GATEWAY_URL": env.str("LIANXIN_SMS_GATEWAY_URL", default=""),
    "SMS_GATEWAY_KEY_ID": env.str("LIANXIN_SMS_GATEWAY_KEY_ID", default=""),
    "SMS_GATEWAY_SECRET": env.str("LIANXIN_SMS_GATEWAY_SECRET", default=""),
    "SMS_SIGN_NAME": env.str("LIANXIN_SMS_SIGN_NAME", default="连心"),
    "SMS_TIMEOUT": env_int("LIANXIN_SMS_TIMEOUT", 10, minimum=1),
    # Message key → the gateway's approved template code, e.g.
    # LIANXIN_SMS_TEMPLATES="requests.offer.new=SMS_100001,requests.order.taken=SMS_100002".
    "SMS_TEMPLATES": env.dict("LIANXIN_SMS_TEMPLATES", default={}),
    # A template variable longer than this is refused by the usual gateways (35).
    "SMS_PARAM_MAX_CHARS": env_int("LIANXIN_SMS_PARAM_MAX_CHARS", 35, minimum=10),
    # One SMS is 70 Chinese characters; longer texts are cut to this many.
    "SMS_MAX_CHARS": env_int("LIANXIN_SMS_MAX_CHARS", 134, minimum=70),
    # Sends per second per worker process of the sms queue (the gateway's rate).
    "SMS_RATE_LIMIT": env.str("LIANXIN_SMS_RATE_LIMIT", default="20/s"),
    # Whether residents are texted about their orders (taken: who comes and
    # when; requests.services.reminders). Off: only staff and providers are.
    "RESIDENT_SMS": env_bool("LIANXIN_RESIDENT_SMS", default=True),
    # Non-urgent SMS and email wait until morning (Asia/Shanghai, HH:MM-HH:MM).
    "QUIET_HOURS": env.str("LIANXIN_QUIET_HOURS", default="21:30-07:30"),
    # Attempts before a delivery is marked failed (backoff 1, 2, 4, 8… minutes).
    "DELIVERY_MAX_ATTEMPTS": env_int("LIANXIN_DELIVERY_MAX_ATTEMPTS", 5, minimum=1),
    # A worker's claim on a delivery lasts this long; a worker that dies
    # holding it loses it then, and the sweep hands the delivery on.
    "DELIVERY_LEASE_SECONDS": env_int("LIANXIN_DELIVERY_LEASE_SECONDS", 120, minimum=30),
    # Report files asked for by hand are deleted after this many days; the
    # monthly job's are kept (reports.services, issue 14).
    "REPORT_RETENTION_DAYS": env_int("LIANXIN_REPORT_RETENTION_DAYS", 30, minimum=1),
    # The weathervane gives a percentage rise only when the period compared
    # with had at least this many orders (docs/metrics.md).
    "WEATHERVANE_MIN_VOLUME": env_int("LIANXIN_WEATHERVANE_MIN_VOLUME", 10, minimum=1),
}

# Email (issue 13): EMAIL_URL as django-environ reads it, e.g.
# smtp+tls://user:password@smtp.example.com:587; the console by default.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="连心 <noreply@lianxin.local>")

# --- Security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts, styles, fonts and images come
# from our own origin only (static/vendor/ holds the libraries); no inline
# script or event handler anywhere (static/js/lianxin.js binds them), no eval
# (htmx runs with allowEval off, see templates/base.html). The admin runs under
# the same policy: Django's admin has no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # style="" attributes only (a few pages set their column width with one):
        # an attribute has no selectors and loads nothing beyond img-src/font-src,
        # so it cannot read the page the way an injected <style> element could.
        "style-src-attr": [UNSAFE_INLINE],
        # Bootstrap's CSS draws its small icons (select arrow, close button) as data: SVGs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (center/middleware.py): the portal uses none of these
# browser features; an empty list denies the feature to every origin.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_one_line": {"()": "center.log_filters.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's default handlers on "django" (console when DEBUG; mail_admins,
        # unused: no ADMINS) would print each django.* record a second time
        # beside the root handler.
        "django": {"handlers": [], "level": "INFO"},
        # A refused page (403) is routine: one line, without the traceback.
        "django.request": {"filters": ["forbidden_one_line"]},
    },
}
