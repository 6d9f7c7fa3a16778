"""Login lockout (django-axes): an account locks after too many wrong passwords,
whichever way its login is typed; a center manager sees and lifts the lock."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.urls import reverse

from tests.center.test_settings import run_manage
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


@pytest.fixture
def zhang(db):
    return UserFactory(username="zhang", mobile="13712345678", role="operator")


def post_login(client, login, password):
    return client.post(reverse("login"), {"username": login, "password": password})


def assert_logged_in(client, response):
    assert response.status_code == 302
    assert response["Location"] == reverse("center:home")
    assert "_auth_user_id" in client.session


def assert_locked_out(client, response):
    assert response.status_code == 429
    assert "registration/lockout.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session


def test_the_limit_and_cool_off_come_from_the_environment():
    code = "from django.conf import settings; print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds())"
    result = run_manage(
        "shell", "-c", code, LIANXIN_LOGIN_FAILURE_LIMIT="5", LIANXIN_LOGIN_COOLOFF_MINUTES="15"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["5", "900.0"]
    result = run_manage("check", LIANXIN_LOGIN_FAILURE_LIMIT="lots")
    assert result.returncode != 0
    assert "LIANXIN_LOGIN_FAILURE_LIMIT='lots' is malformed" in result.stderr


def test_the_lockout_answers_scripts_without_naming_the_account(client, zhang, settings):
    # Axes's default answer to an XMLHttpRequest is JSON carrying the lockout key.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("login"),
            {"username": "13712345678", "password": WRONG},
            headers={"x-requested-with": "XMLHttpRequest"},
        )
    assert_locked_out(client, response)
    assert "zhang" not in response.content.decode()


def test_a_few_typos_then_the_right_password_logs_in(client, zhang, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_login(client, "zhang", WRONG).status_code == 200
    assert_logged_in(client, post_login(client, "zhang", PASSWORD))


def test_twenty_wrong_passwords_lock_the_account_even_against_the_right_one(
    client, zhang, settings
):
    assert settings.AXES_FAILURE_LIMIT <= 20
    responses = [post_login(client, "13712345678", WRONG) for _ in range(20)]
    assert [r.status_code for r in responses[: settings.AXES_FAILURE_LIMIT - 1]] == [200] * (
        settings.AXES_FAILURE_LIMIT - 1
    )
    for response in responses[settings.AXES_FAILURE_LIMIT - 1 :]:
        assert_locked_out(client, response)
    # The password is not even checked any more, by mobile or by username.
    assert_locked_out(client, post_login(client, "13712345678", PASSWORD))
    assert_locked_out(client, post_login(client, "zhang", PASSWORD))


def test_alternating_mobile_and_username_does_not_double_the_attempts(client, zhang, settings):
    spellings = ["zhang", "13712345678", "+86 137-1234-5678", "0086 13712345678"]
    for i in range(settings.AXES_FAILURE_LIMIT):
        response = post_login(client, spellings[i % len(spellings)], WRONG)
    assert_locked_out(client, response)
    # One account, one counter, under its username.
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "zhang"
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    assert_locked_out(client, post_login(client, "zhang", PASSWORD))


def test_other_accounts_are_not_locked_by_one_locked_account(client, zhang, settings):
    li = UserFactory(username="li", mobile="13712345679", role="operator")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "zhang", WRONG)
    # Same client, same address: the lock is on the account, not the office.
    assert_logged_in(client, post_login(client, li.mobile, PASSWORD))


def test_an_unknown_login_locks_the_same_way(client, zhang, settings):
    # The same page for a login that names nobody: the lockout reveals no account.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = post_login(client, "+86 139 0000 0000", WRONG)
    assert_locked_out(client, response)
    assert AccessAttempt.objects.get().username == "13900000000"


def test_the_lockout_page_explains_in_chinese_and_english(client, zhang, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = post_login(client, "zhang", WRONG)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    page = response.content.decode()
    assert "登录已锁定" in page
    assert f"登录已锁定 {minutes} 分钟" in page
    assert "中心管理员" in page
    assert "zhang" not in page

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = post_login(client, "zhang", PASSWORD).content.decode()
    assert "Login locked" in page
    assert f"logging in is locked for {minutes} minutes" in page


def test_the_lock_ends_after_the_cool_off(client, zhang, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "zhang", WRONG)
    assert_locked_out(client, post_login(client, "zhang", PASSWORD))
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert_logged_in(client, post_login(client, "zhang", PASSWORD))


def test_a_center_manager_sees_the_lockout_in_the_back_office_and_lifts_it(
    client, zhang, center_manager, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "13712345678", WRONG)
    attempt = AccessAttempt.objects.get()

    client.force_login(center_manager)
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"), {"locked_out": "yes"})
    assert changelist.status_code == 200
    assert "zhang" in changelist.content.decode()
    delete_url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert client.get(delete_url).status_code == 200
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()

    assert_logged_in(client, post_login(client, "13712345678", PASSWORD))


def test_axes_reset_lifts_the_lockout(client, zhang, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "zhang", WRONG)
    assert reset(username="zhang") == 1
    assert_logged_in(client, post_login(client, "+86 13712345678", PASSWORD))


def test_the_back_office_login_is_locked_too(client, center_manager, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("admin:login"), {"username": "cm", "password": WRONG})
    response = client.post(reverse("admin:login"), {"username": "cm", "password": PASSWORD})
    assert_locked_out(client, response)
