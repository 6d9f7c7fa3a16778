"""Notifications store a message key and parameters and are rendered in the
reader's language when read (center.messages)."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from center import messages
from center.models import Notification
from center.notifications import notify

pytestmark = pytest.mark.django_db

STAR = {"n": 3, "hours": "300.00"}


def _inbox(client, language):
    client.cookies["django_language"] = language
    return client.get(reverse("center:inbox")).content.decode()


def test_a_message_written_in_english_reads_in_chinese_and_back(client, volunteer_user):
    with translation.override("en"):
        notify(
            recipient=volunteer_user,
            key="star:1:3",
            kind="volunteers.star",
            message="volunteers.star.reached",
            params=STAR,
        )
    n = Notification.objects.get()
    assert (n.message, n.params) == ("volunteers.star.reached", STAR)
    with translation.override("zh-hans"):
        assert n.display_title == "您已达到 3 星"
        assert n.display_body == "感谢您 300.00 小时的志愿服务。"
    with translation.override("en"):
        assert n.display_title == "You reached 3 stars"
    client.force_login(volunteer_user)
    assert "您已达到 3 星" in _inbox(client, "zh-hans")
    page = _inbox(client, "en")
    assert "You reached 3 stars" in page and "您已达到" not in page


def test_a_message_written_in_chinese_reads_in_english(client, volunteer_user):
    with translation.override("zh-hans"):
        notify(
            recipient=volunteer_user,
            key="revoked:1",
            kind="volunteers.sanction",
            message="volunteers.sanction.revoked",
            params={"level": "warning", "reason": "申诉成立"},
        )
    n = Notification.objects.get()
    with translation.override("en"):
        assert (n.display_title, n.display_body) == ("Your Warning was revoked", "申诉成立")
    with translation.override("zh-hans"):
        assert n.display_title == "您的警告已撤销"


def test_the_stored_text_is_in_the_site_language_whoever_caused_it(volunteer_user):
    with translation.override("en"):
        notify(
            recipient=volunteer_user,
            key="k",
            kind="x",
            message="volunteers.star.reached",
            params=STAR,
        )
    assert Notification.objects.get().title == "您已达到 3 星"


def test_old_callers_with_title_and_body_still_work(volunteer_user):
    n = notify(recipient=volunteer_user, key="k", kind="x", title="旧标题", body="旧正文")
    assert (n.message, n.display_title, n.display_body) == ("", "旧标题", "旧正文")


def test_an_unknown_key_fails_loudly_and_a_key_gone_later_falls_back(volunteer_user):
    with pytest.raises(ValueError):
        notify(recipient=volunteer_user, key="k", kind="x", message="no.such.key")
    n = Notification.objects.create(
        recipient=volunteer_user, key="k2", kind="x", message="gone.key", title="存档", body="b"
    )
    assert (n.display_title, n.display_body) == ("存档", "b")


@pytest.mark.parametrize("key", sorted(messages.MESSAGES))
def test_every_message_renders_in_both_languages(key):
    message = messages.MESSAGES[key]
    with translation.override("en"):
        names = set(re.findall(r"%\((\w+)\)s", f"{message.title} {message.body}"))
    params = {name: "warning" if name == "level" else f"<{name}>" for name in names}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            title, body = messages.render(key, params)
        assert title and all(f"<{n}>" in title + body for n in names - {"level"}), (key, language)


def test_the_keys_the_hotline_needs_are_registered():
    assert {
        "requests.order.assigned",
        "requests.order.offered",
        "requests.order.urged",
        "requests.alert.no_provider",
        "requests.alert.not_taken",
        "requests.alert.widened",
        "requests.alert.returned",
        "requests.alert.urged",
    } <= set(messages.MESSAGES)


def test_an_app_registers_its_messages_and_a_key_keeps_its_meaning(monkeypatch):
    monkeypatch.setattr(messages, "MESSAGES", dict(messages.MESSAGES))
    same = messages.MESSAGES["requests.order.urged"]
    messages.register({"requests.order.urged": same})  # ready() run twice: fine
    messages.register({"events.wish.adopted": messages.Message("Wish %(n)s adopted")})
    assert messages.render("events.wish.adopted", {"n": 3}) == ("Wish 3 adopted", "")
    with pytest.raises(ValueError, match="already registered"):
        messages.register({"requests.order.urged": messages.Message("something else")})
