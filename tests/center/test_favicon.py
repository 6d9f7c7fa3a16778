from pathlib import Path

from django.contrib.staticfiles import finders
from django.templatetags.static import static


def test_favicon_ico_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("favicon.ico")
    icon = Path(finders.find("favicon.ico")).read_bytes()
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO file (production serving: test_production.py)
