"""Each person's message settings (issue 13, part C): language, SMS, email;
emergencies by SMS whatever they chose; quiet hours told on the page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from center import services
from center.models import AuditEntry, Delivery
from center.notifications import notify
from tests.factories import VolunteerFactory

pytestmark = pytest.mark.django_db
URL = reverse("center:notification_settings")


def test_outsider_and_anonymous_are_refused(client, outsider):
    assert client.get(URL).status_code == 302
    client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"language": "en"}).status_code == 403
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["volunteer_user", "operator", "station_manager", "center_manager"])
def test_every_role_has_the_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 200


def test_the_form_in_chinese(client, volunteer_user, settings):
    settings.LIANXIN = {**settings.LIANXIN, "QUIET_HOURS": "22:00-07:00"}
    volunteer_user.mobile = "13812345678"
    volunteer_user.save()
    client.force_login(volunteer_user)
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "消息语言" in body and "短信通知" in body and "邮件通知" in body
    assert "138****5678" in body and "13812345678" not in body
    assert "22:00" in body and "07:00" in body


def test_the_form_in_english(client, volunteer_user):
    client.force_login(volunteer_user)
    with translation.override("en"):
        body = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Language of messages" in body and "Messages by SMS" in body
    assert "Emergencies always go by SMS" in body
    assert "21:30" in body and "07:30" in body  # the default quiet hours


def test_saving_the_settings(client, volunteer_user):
    client.force_login(volunteer_user)
    response = client.post(
        URL,
        {"language": "en", "email": " li@example.com ", "notify_email": "on"},  # SMS off
    )
    assert response.status_code == 302 and response["Location"] == URL
    volunteer_user.refresh_from_db()
    assert (
        volunteer_user.language,
        volunteer_user.notify_sms,
        volunteer_user.email,
        volunteer_user.notify_email,
    ) == ("en", False, "li@example.com", True)
    entry = AuditEntry.objects.get(action="center.user.notifications_updated")
    assert entry.actor == volunteer_user
    assert entry.data == {"fields": ["email", "language", "notify_sms"]}
    assert "li@example.com" not in str(entry.data)


def test_email_on_needs_an_address(client, volunteer_user):
    client.force_login(volunteer_user)
    response = client.post(URL, {"language": "zh-hans", "notify_sms": "on", "notify_email": "on"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not AuditEntry.objects.exists()


def test_the_choices_reach_delivery(volunteer_user, settings):
    """SMS off: a message goes to the inbox and by email only; an emergency
    still goes by SMS."""
    volunteer_user.mobile = "13812345678"
    volunteer_user.save()
    services.user_notification_settings_update(
        actor=volunteer_user,
        user=volunteer_user,
        data={"notify_sms": False, "email": "v@example.com", "notify_email": True},
    )
    volunteer_user.refresh_from_db()
    params = {"n": 3, "hours": "300.00"}
    message = {"kind": "volunteers.star", "message": "volunteers.star.reached", "params": params}
    notify(recipient=volunteer_user, key="plain", **message)
    notify(recipient=volunteer_user, key="emergency", urgent=True, **message)
    sent = set(Delivery.objects.values_list("key", "address"))
    assert sent == {
        ("plain:email", "v@example.com"),
        ("emergency:sms", "13812345678"),
        ("emergency:email", "v@example.com"),
    }


def test_only_oneself_or_a_center_manager_changes_the_settings(
    volunteer_user, operator, center_manager
):
    with pytest.raises(ValidationError):
        services.user_notification_settings_update(
            actor=operator, user=volunteer_user, data={"notify_sms": False}
        )
    services.user_notification_settings_update(
        actor=center_manager, user=volunteer_user, data={"notify_sms": False}
    )
    volunteer_user.refresh_from_db()
    assert volunteer_user.notify_sms is False


def test_bad_values_are_refused(volunteer_user):
    for data in ({"language": "fr"}, {"email": "not an address"}):
        with pytest.raises(ValidationError):
            services.user_notification_settings_update(
                actor=volunteer_user, user=volunteer_user, data=data
            )


def test_nothing_changed_writes_no_audit(volunteer_user):
    services.user_notification_settings_update(
        actor=volunteer_user, user=volunteer_user, data={"language": volunteer_user.language}
    )
    assert not AuditEntry.objects.exists()


def test_the_inbox_and_my_page_link_to_the_settings(client, volunteer_user, station):
    VolunteerFactory(user=volunteer_user, station=station)
    client.force_login(volunteer_user)
    assert URL in client.get(reverse("center:inbox")).content.decode()
    assert URL in client.get(reverse("volunteers:me")).content.decode()
