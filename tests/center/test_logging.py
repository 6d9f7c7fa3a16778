"""A refused page (403) is logged once, as one line, without a traceback."""

import logging
import sys

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def forbidden_records(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


def handlers_that_emit(record: logging.LogRecord) -> list[logging.Handler]:
    """The handlers the logging module would call for ``record`` (pytest's own left out)."""
    found = []
    logger = logging.getLogger(record.name)
    while logger:
        found += [
            h
            for h in logger.handlers
            if not type(h).__module__.startswith("_pytest")
            and record.levelno >= h.level
            and h.filter(record)
        ]
        if not logger.propagate:
            break
        logger = logger.parent
    return found


@pytest.mark.parametrize("debug", [False, True])
def test_a_403_is_one_line_once(caplog, login, outsider, settings, debug):
    settings.DEBUG = debug
    with caplog.at_level(logging.INFO):
        response = login(outsider).get(reverse("center:home"))
    assert response.status_code == 403

    [record] = forbidden_records(caplog)
    assert record.status_code == 403
    assert record.getMessage() == "Forbidden (Permission denied): /"
    assert record.exc_info is None
    assert "\n" not in logging.Formatter().format(record)
    # Printed by one handler, not also by Django's own console handler when DEBUG.
    assert len(handlers_that_emit(record)) == 1


def test_other_errors_keep_their_traceback():
    # The filter touches 403s only: a real error's traceback is what one needs.
    from center.log_filters import ForbiddenWithoutTraceback

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.makeLogRecord(
        {"name": "django.request", "msg": "Internal Server Error", "exc_info": exc_info}
    )
    record.status_code = 500
    assert ForbiddenWithoutTraceback().filter(record)
    assert record.exc_info is not None
