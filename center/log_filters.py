"""Logging filters (wired in settings.LOGGING)."""

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """A 403 on ``django.request`` becomes one line: "Forbidden (Permission denied): /path".

    Django logs a ``PermissionDenied`` raised in a view with the exception
    attached, so each refused page (an outsider following a link) printed a full
    traceback. A refusal is routine, not a bug; the line keeps the path and the
    status code. Every other record passes unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
