"""Pages a visitor reaches without logging in (the wish wall) offer the way in."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_visitor_on_the_wall_finds_the_login_link_back_to_it(client):
    response = client.get(reverse("requests:wish_wall"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="login-link"' in html
    assert f"{reverse('login')}?next=/wishes/" in html


def test_the_login_page_and_logged_in_users_have_no_login_link(client, volunteer_user):
    assert 'data-testid="login-link"' not in client.get(reverse("login")).content.decode()
    client.force_login(volunteer_user)
    html = client.get(reverse("requests:wish_wall")).content.decode()
    assert 'data-testid="login-link"' not in html
