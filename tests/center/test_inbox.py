import pytest
from django.urls import reverse

from center.models import Notification
from center.notifications import notify

pytestmark = pytest.mark.django_db


def test_inbox_shows_own_messages_and_marks_them_read(client, station_manager, operator):
    notify(
        recipient=station_manager,
        key="a",
        kind="requests.alert",
        title="工单 GD1 超时未接",
        body="梅湾社区",
    )
    notify(
        recipient=station_manager, key="a", kind="requests.alert", title="重复", body=""
    )  # same key: once
    notify(recipient=operator, key="b", kind="x", title="别人的消息")
    client.force_login(station_manager)
    assert 'data-testid="unread">1<' in client.get(reverse("center:inbox_badge")).content.decode()
    body = client.get(reverse("center:inbox")).content.decode()
    assert "工单 GD1 超时未接" in body and "别人的消息" not in body and "重复" not in body
    assert not Notification.objects.filter(recipient=station_manager, read_at__isnull=True).exists()
    assert "unread" not in client.get(reverse("center:inbox_badge")).content.decode()
    assert Notification.objects.get(recipient=operator).read_at is None


def test_inbox_needs_login(client):
    assert client.get(reverse("center:inbox")).status_code == 302


def test_inbox_query_count_is_constant(client, operator, django_assert_num_queries):
    client.force_login(operator)
    client.get(reverse("center:inbox"))
    for i in range(3):
        notify(recipient=operator, key=f"k{i}", kind="x", title=f"t{i}")
    client.get(reverse("center:inbox"))  # reads them
    # session, user, messages
    with django_assert_num_queries(3):
        client.get(reverse("center:inbox"))
    for i in range(3, 30):
        Notification.objects.create(
            recipient=operator, key=f"k{i}", kind="x", title=f"t{i}", read_at="2026-01-01T00:00Z"
        )
    with django_assert_num_queries(3):
        client.get(reverse("center:inbox"))
