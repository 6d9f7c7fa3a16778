"""The outsider (logged in, no role) is refused on every page of every app,
whatever the method: no page leaks data or changes anything for them."""

import pytest
from django.apps import apps as django_apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from center.models import AuditEntry

PUBLIC = {
    "login",
    "logout",
    "set_language",
    "healthz",
    "requests:device_call",
    "center:inbox",
    "center:inbox_badge",
    "requests:wish_wall",
    "requests:wish_public",
    "requests:wish_public_photo",
    "events:record",  # the public record (纪实): no login, no personal data
    "events:record_period",
    "events:record_print",
    "events:calendar_feed",  # a volunteer's calendar feed: no login, the secret token
    "events:photo",  # a stall's or activity's photo: public once marked publishable, else 404
}
# Center and every app that plugs its pages in (``url_prefix`` on its
# AppConfig): a new app's URLs are swept without editing this file.
APPS = {"center"} | {
    c.label for c in django_apps.get_app_configs() if getattr(c, "url_prefix", None) is not None
}


def named_patterns(resolver=None, namespace=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            if p.namespace == "admin":
                continue
            yield from named_patterns(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", p


def fake_kwargs(pattern: URLPattern) -> dict:
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        kwargs[name] = (
            1
            if converter.__class__.__name__ == "IntConverter"
            else {
                "kind": "volunteers",
                "provider": "volunteer",
                "field": "mobile",
                "step": "cancel",
            }.get(name, "x")
        )
    return kwargs


PAGES = sorted(
    (name, fake_kwargs(p))
    for name, p in named_patterns()
    if name.split(":")[0] in APPS and name not in PUBLIC
)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), PAGES, ids=[n for n, _k in PAGES])
def test_outsider_is_refused(client, outsider, name, kwargs):
    client.force_login(outsider)
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code in (403, 405), url
    assert client.post(url, {"reason": "x", "on_duty": "1"}).status_code in (403, 405), url
    assert not AuditEntry.objects.exists()


def test_every_app_page_is_covered():
    assert len(PAGES) > 60
