import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from center.celery import BEAT_SCHEDULE
from center.celery import app as celery_app
from center.tasks import HEARTBEAT_KEY, beat_heartbeat


def test_beat_schedule_lists_the_heartbeat():
    assert BEAT_SCHEDULE["center-heartbeat"]["task"] == beat_heartbeat.name
    assert celery_app.conf.beat_schedule is BEAT_SCHEDULE


@pytest.mark.django_db
def test_healthz_reports_database_cache_and_last_beat(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "beat_last_run": None}
    stamp = beat_heartbeat.delay().get()
    assert client.get(reverse("healthz")).json()["beat_last_run"] == stamp


@pytest.mark.django_db
def test_healthz_says_503_when_the_cache_is_down(client):
    broken = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    with override_settings(CACHES=broken):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["cache"] == "down"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_task_travels_through_redis_to_a_real_worker(settings):
    """With REDIS_URL the task is not eager: it goes over the broker to a worker."""
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False
    cache.delete(HEARTBEAT_KEY)
    assert celery_app.conf.broker_url == settings.REDIS_URL
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        beat_heartbeat.delay()
        stamp = None
        deadline = time.monotonic() + 20
        while stamp is None and time.monotonic() < deadline:
            stamp = cache.get(HEARTBEAT_KEY)
            time.sleep(0.1)
    assert stamp is not None, "the worker never ran the task"


@pytest.mark.django_db
def test_login_records_older_than_the_retention_are_purged_and_recent_ones_kept(settings):
    import datetime

    from axes.models import AccessLog
    from django.utils import timezone

    from center.tasks import purge_login_logs

    now = timezone.now()
    old = AccessLog.objects.create(username="a", ip_address="10.0.0.1", user_agent="x")
    recent = AccessLog.objects.create(username="b", ip_address="10.0.0.1", user_agent="x")
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=now - datetime.timedelta(days=200))
    AccessLog.objects.filter(pk=recent.pk).update(attempt_time=now - datetime.timedelta(days=170))
    assert purge_login_logs() == 1 and purge_login_logs() == 0
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["b"]
    assert BEAT_SCHEDULE["center-purge-login-logs"]["task"] == purge_login_logs.name
    from center.models import AuditEntry

    # One audit entry for the run that deleted something, none for the empty rerun.
    assert list(
        AuditEntry.objects.filter(action="center.login_logs.purged").values_list("data", flat=True)
    ) == [
        {
            "deleted": 1,
            "before": (now - datetime.timedelta(days=settings.LIANXIN["LOGIN_LOG_RETENTION_DAYS"]))
            .date()
            .isoformat(),
        }
    ]


def test_no_task_retries_on_every_exception():
    """A bug should fail loudly once: tasks retry only on named, retryable errors."""
    import center.tasks  # noqa: F401
    import requests.tasks  # noqa: F401
    import volunteers.tasks  # noqa: F401

    ours = [t for name, t in celery_app.tasks.items() if name.split(".")[0] in APPS]
    assert len(ours) >= 5
    for task in ours:
        retried = tuple(getattr(task, "autoretry_for", ()) or ())
        assert Exception not in retried and BaseException not in retried, task.name


APPS = {"center", "volunteers", "requests", "events"}
