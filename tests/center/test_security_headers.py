"""Content-Security-Policy and Permissions-Policy on every page; no inline script
anywhere, so the policy needs no 'unsafe-inline' for scripts."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import ServiceItemFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TAG = re.compile(r"<[a-zA-Z][^>]*>")
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def csp(response) -> dict[str, list[str]]:
    """The policy as {directive: [sources]}."""
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


def inline_scripts(html: str) -> list[str]:
    """<script> elements that run inline code (JSON data blocks do not run)."""
    return [
        attrs
        for attrs in SCRIPT.findall(html)
        if "src=" not in attrs and "application/json" not in attrs
    ]


def test_pages_send_a_strict_content_security_policy(client, login, operator):
    for response in (client.get(reverse("login")), login(operator).get(reverse("center:home"))):
        assert response.status_code == 200
        policy = csp(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_pages_send_a_permissions_policy(client):
    response = client.get(reverse("login"))
    features = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()", feature


def test_htmx_injects_no_style_and_evaluates_nothing(client):
    page = client.get(reverse("login")).content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', page)
    assert config, "htmx-config meta missing from base.html"
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)


def test_no_template_has_an_inline_script_style_or_event_handler():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES)
        problems += [f"{name}: inline <script{a}>" for a in inline_scripts(text)]
        problems += [f"{name}: <style> element" for _ in re.findall(r"<style\b", text, re.I)]
        problems += [f"{name}: javascript: URL" for _ in re.findall(r"javascript:", text, re.I)]
        problems += [f"{name}: hx-on" for _ in re.findall(r"\shx-on", text)]
        for tag in TAG.findall(text):
            if EVENT_HANDLER.search(tag):
                problems.append(f"{name}: event handler in {tag[:80]}")
    assert problems == []


def test_the_admin_runs_without_inline_script(client, center_manager):
    # The policy applies to /admin/ too: its pages must not need inline code.
    item = ServiceItemFactory()
    client.force_login(center_manager)
    for url in (
        reverse("admin:index"),
        reverse("admin:center_serviceitem_changelist"),
        reverse("admin:center_serviceitem_change", args=[item.pk]),
        reverse("admin:center_station_add"),
        reverse("admin:axes_accessattempt_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" in response, url
        html = response.content.decode()
        assert inline_scripts(html) == [], url
        assert not [t for t in TAG.findall(html) if EVENT_HANDLER.search(t)], url
