"""Production mode builds its static files and serves pages and static files."""

import json

from tests.center.test_settings import GOOD_SECRET, run_manage

# Runs inside `manage.py shell` in production mode: Django's test client through
# the whole middleware stack (WhiteNoise included), over HTTPS as behind the proxy.
FETCH = """
import json
from django.templatetags.static import static
from django.test import Client

client = Client(raise_request_exception=False)
login = client.get("/accounts/login/", secure=True)
css_url = static("vendor/bootstrap/bootstrap.min.css")
css = client.get(css_url, secure=True)
favicon = client.get("/favicon.ico", secure=True)
icon = client.get(favicon["Location"], secure=True)
print(json.dumps({
    "login": login.status_code,
    "login_mentions_css": css_url in login.content.decode(),
    "csp": login.get("Content-Security-Policy", ""),
    "css_url": css_url,
    "css": css.status_code,
    "favicon": favicon.status_code,
    "icon": icon.status_code,
    "icon_bytes": b"".join(icon.streaming_content)[:4].hex() if icon.status_code == 200 else "",
}))
"""


def production_env(static_root, tmp_path):
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": GOOD_SECRET,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_STATIC_ROOT": str(static_root),
        # Never the developer's db.sqlite3; these pages read no table.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_collectstatic_then_pages_and_static_files_are_served_in_production(tmp_path):
    static_root = tmp_path / "static"
    env = production_env(static_root, tmp_path)

    # The manifest storage fails here on any reference to a missing file
    # (e.g. a vendored library's source map), which would make every page a 500.
    result = run_manage("collectstatic", "--noinput", **env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert (static_root / "staticfiles.json").exists()

    result = run_manage("shell", "-c", FETCH, **env)
    assert result.returncode == 0, result.stderr + result.stdout
    page = json.loads(result.stdout.strip().splitlines()[-1])
    assert page["login"] == 200, result.stderr
    # Hashed names (vendor/bootstrap/bootstrap.min.<hash>.css), served by WhiteNoise.
    assert page["css_url"] != "/static/vendor/bootstrap/bootstrap.min.css"
    assert page["login_mentions_css"]
    assert page["css"] == 200
    assert "script-src 'self'" in page["csp"]
    assert page["favicon"] == 302
    assert page["icon"] == 200
    assert page["icon_bytes"] == "00000100"  # an ICO file
