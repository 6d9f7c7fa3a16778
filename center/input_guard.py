"""Refuse input no field can hold, before any view sees it.

A NUL character cannot be stored by PostgreSQL (and is never meaningful in a
form), and before this guard a NUL in a filter, a search box or a form field
reached the database and became a 500. Here it gets a 400 with a message in the
user's language (JSON for the API), and nothing is written.
"""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"


def _has_nul(querydict) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in querydict.lists())


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = NUL in request.path or _has_nul(request.GET)
        if (
            not bad
            and request.method == "POST"
            and request.content_type
            in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            )
        ):
            bad = _has_nul(request.POST)
        if bad:
            if request.path.startswith("/api/"):
                return JsonResponse({"error": "invalid_characters"}, status=400)
            return HttpResponseBadRequest(
                _(
                    "The request contains a NUL character, which no field accepts. Nothing was saved."
                ),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
