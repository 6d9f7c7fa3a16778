"""Provider logins (center.accounts): created with the provider, first password
set through a one-time activation code on a public page."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from center import accounts
from center.models import ActivationCode, AuditEntry, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Hongqi-piao-2026"
SENT = []


def fake_sms_sender(mobile, code, expires_at):
    SENT.append((mobile, code))


def _register(mobile="13600000001", role=Role.VOLUNTEER, actor=None) -> accounts.Issued:
    return accounts.provider_login_create(
        actor=actor,
        role=role,
        login=accounts.NewLogin(username=f"JX-{mobile}", mobile=mobile, full_name="张三"),
    )


def _activate(client, mobile, code, password=NEW_PASSWORD, password2=None):
    return client.post(
        reverse("account_activate"),
        {"mobile": mobile, "code": code, "password": password, "password2": password2 or password},
    )


def test_a_provider_login_has_the_role_no_password_and_only_a_hash_of_its_code(operator):
    issued = _register(actor=operator)
    user = User.objects.get(mobile="13600000001")
    assert issued.user == user and user.role == Role.VOLUNTEER and not user.has_usable_password()
    assert len(issued.code) == 8 and issued.code.isdigit()
    row = ActivationCode.objects.get(user=user)
    assert issued.code not in row.code_hash and len(row.code_hash) == 64
    assert row.issued_by == operator and row.expires_at > timezone.now() + datetime.timedelta(
        hours=71
    )
    actions = set(
        AuditEntry.objects.filter(target_id=str(user.pk)).values_list("action", flat=True)
    )
    assert {"center.account.created", "center.account.code_issued"} <= actions


def test_activation_sets_the_password_logs_in_and_the_code_works_once(client):
    issued = _register()
    response = _activate(client, "136 0000 0001", issued.code)
    assert response.status_code == 302 and response["Location"] == reverse("center:home")
    assert client.get(reverse("center:home")).status_code == 200  # logged in, role volunteer
    user = User.objects.get(mobile="13600000001")
    assert user.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="center.account.activated", actor=user).exists()
    client.logout()
    again = _activate(client, "13600000001", issued.code, password="Another-pass-2026")
    assert again.status_code == 200 and again.context["form"].non_field_errors()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # From now on: the mobile number and the password, on the ordinary login page.
    login = client.post(reverse("login"), {"username": "13600000001", "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_an_expired_code_is_refused(client):
    issued = _register()
    ActivationCode.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = _activate(client, "13600000001", issued.code)
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert not User.objects.get(mobile="13600000001").has_usable_password()


def test_a_weak_password_is_refused_by_the_validators_and_keeps_the_code(client):
    issued = _register()
    response = _activate(client, "13600000001", issued.code, password="12345678")
    assert response.status_code == 200 and response.context["form"].has_error("password")
    assert ActivationCode.objects.get().used_at is None
    assert _activate(client, "13600000001", issued.code).status_code == 302


def test_unknown_number_and_wrong_code_get_the_same_answer(client):
    issued = _register()
    wrong = "0" * 8 if issued.code != "0" * 8 else "1" * 8
    unknown = _activate(client, "13699999999", issued.code)
    bad = _activate(client, "13600000001", wrong)
    assert unknown.context["form"].non_field_errors() == bad.context["form"].non_field_errors()
    assert ActivationCode.objects.get().failures == 1


def test_attempts_are_rate_limited_per_mobile(client, settings):
    settings.LIANXIN = {**settings.LIANXIN, "ACTIVATION_ATTEMPTS": 3}
    issued = _register()
    for _i in range(3):
        assert _activate(client, "13600000001", "00000000").status_code == 200
    # The right code no longer helps within the window.
    assert _activate(client, "13600000001", issued.code).status_code == 429
    assert not User.objects.get(mobile="13600000001").has_usable_password()


def test_too_many_wrong_codes_kill_the_code(settings):
    settings.LIANXIN = {**settings.LIANXIN, "ACTIVATION_MAX_FAILURES": 2}
    issued = _register()
    for _i in range(2):
        with pytest.raises(ValidationError):
            accounts.account_activate(mobile="13600000001", code="x", password=NEW_PASSWORD)
    with pytest.raises(ValidationError):
        accounts.account_activate(mobile="13600000001", code=issued.code, password=NEW_PASSWORD)


def test_a_new_code_replaces_the_last_one(client, station_manager):
    first = _register()
    second = accounts.activation_code_issue(actor=station_manager, user=first.user)
    assert ActivationCode.objects.count() == 1
    if first.code != second.code:
        assert _activate(client, "13600000001", first.code).status_code == 200
    assert _activate(client, "13600000001", second.code).status_code == 302


def test_a_staff_mobile_cannot_become_a_provider_login(operator):
    with pytest.raises(ValidationError) as exc:
        _register(mobile=operator.mobile)
    assert "mobile" in exc.value.error_dict
    operator.refresh_from_db()
    assert operator.role == Role.OPERATOR


def test_a_roleless_login_with_that_mobile_is_linked_not_duplicated():
    existing = UserFactory(role="", mobile="13600000001")
    issued = _register(role=Role.MERCHANT)
    assert issued.user.pk == existing.pk and User.objects.filter(mobile="13600000001").count() == 1
    existing.refresh_from_db()
    assert existing.role == Role.MERCHANT


def test_the_sms_hook_gets_the_code_after_commit(settings, django_capture_on_commit_callbacks):
    settings.LIANXIN = {
        **settings.LIANXIN,
        "ACTIVATION_SMS_SENDER": "tests.center.test_accounts.fake_sms_sender",
    }
    SENT.clear()
    with django_capture_on_commit_callbacks(execute=True):
        issued = _register()
        assert SENT == []  # nothing leaves before the commit
    assert SENT == [("13600000001", issued.code)]


def test_the_activation_page_is_public_and_linked_from_the_login_page(client):
    assert client.get(reverse("account_activate")).status_code == 200
    assert reverse("account_activate") in client.get(reverse("login")).content.decode()


def test_a_roleless_superuser_or_back_office_login_is_never_linked(station_manager):
    """A probe found that linking a role-less superuser handed its password to
    the station manager who registered a volunteer with its mobile."""
    UserFactory(username="root", mobile="13911112222", role="", is_superuser=True)
    UserFactory(username="desk", mobile="13911113333", role="", is_staff=True)
    for mobile in ("13911112222", "13911113333"):
        with pytest.raises(ValidationError):
            _register(mobile=mobile, actor=station_manager)
    assert accounts.mobiles_taken(["13911112222", "13911113333"], role=Role.VOLUNTEER) == {
        "13911112222",
        "13911113333",
    }
    assert not User.objects.filter(mobile="13911112222", role=Role.VOLUNTEER).exists()


def test_a_code_no_longer_works_once_the_login_is_staff(client):
    issued = _register()
    User.objects.filter(pk=issued.user.pk).update(role=Role.STATION_MANAGER)
    _activate(client, "13600000001", issued.code)
    assert not User.objects.get(pk=issued.user.pk).has_usable_password()


def test_full_width_digits_of_a_phone_keyboard_are_read_as_digits(client):
    issued = _register()
    full_width = issued.code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert _activate(client, "13600000001", full_width).status_code == 302
    assert User.objects.get(pk=issued.user.pk).has_usable_password()
