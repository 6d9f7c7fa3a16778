import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("identifier", ["13712345678", "+86 137-1234-5678", "zhang"])
def test_login_by_mobile_or_username(client, identifier):
    UserFactory(username="zhang", mobile="13712345678", role="operator")
    response = client.post(reverse("login"), {"username": identifier, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("center:home")


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(username="zhang", mobile="13712345678")
    response = client.post(reverse("login"), {"username": "13712345678", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_log_in(client):
    UserFactory(username="gone", mobile="13712345679", is_active=False)
    response = client.post(reverse("login"), {"username": "gone", "password": PASSWORD})
    assert response.status_code == 200


def test_invalid_mobile_is_refused_by_the_model():
    from django.core.exceptions import ValidationError

    user = UserFactory.build(mobile="12345678901")
    with pytest.raises(ValidationError) as exc:
        user.full_clean()
    assert "mobile" in exc.value.message_dict


def test_home_refuses_outsider_and_welcomes_roles(
    login, outsider, volunteer_user, station_manager, station
):
    assert login(outsider).get(reverse("center:home")).status_code == 403
    assert login(volunteer_user).get(reverse("center:home")).status_code == 200
    response = login(station_manager).get(reverse("center:home"))
    assert station.name in response.content.decode()
