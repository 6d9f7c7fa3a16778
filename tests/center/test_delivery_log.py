"""The delivery log (issue 13, part C): who sees which deliveries, the
filters, masked addresses, resending a failed one, the failures of the last
day, and a page that costs the same however many rows there are."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from center import selectors_delivery
from center.models import AuditEntry, Delivery, Role
from center.notifications import notify
from tests.factories import StationFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("center:delivery_list")
STAR = {"n": 3, "hours": "300.00"}


def _delivery(recipient=None, *, key=None, channel="sms", address="", status="pending", **extra):
    n = Delivery.objects.count()
    row = Delivery.objects.create(
        key=key or f"test.{n}:{channel}",
        recipient=recipient,
        channel=channel,
        address=address or (recipient.mobile if recipient and channel == "sms" else "13900000000"),
        kind="test",
        message=extra.pop("message", "volunteers.star.reached"),
        params=extra.pop("params", STAR),
        language="zh-hans",
        status=status,
        not_before=timezone.now(),
        **extra,
    )
    return row


def _ids(response) -> set[int]:
    return {d.pk for d in response.context["object_list"]}


# --- who sees the log ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "volunteer_user", "operator"])
def test_the_log_refuses_everyone_but_managers(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_anonymous_goes_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_center_manager_sees_every_delivery_masked(client, center_manager, volunteer_user):
    volunteer_user.mobile, volunteer_user.email = "13812345678", "zhang.san@example.com"
    volunteer_user.save()
    sms = _delivery(volunteer_user)
    email = _delivery(volunteer_user, channel="email", address="zhang.san@example.com")
    resident = _delivery(None, address="13698765432")
    client.force_login(center_manager)
    response = client.get(URL)
    assert _ids(response) == {sms.pk, email.pk, resident.pk}
    body = response.content.decode()
    assert "138****5678" in body and "13812345678" not in body
    assert "z***@example.com" in body and "zhang.san@example.com" not in body
    assert "136****5432" in body and "13698765432" not in body


def test_station_manager_sees_the_deliveries_of_their_stations_managers(
    client, station, other_station, station_manager, volunteer_user
):
    """Center cannot see a volunteer's home station (volunteers is a feature
    app): a station manager sees deliveries to the managers of the stations
    in their scope (themselves and those under them), nobody else's."""
    point = StationFactory(code="PT-A1", parent=station)
    below = UserFactory(role=Role.STATION_MANAGER, stations=[point])
    elsewhere = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    own = _delivery(station_manager)
    theirs = _delivery(below)
    _delivery(elsewhere)
    _delivery(volunteer_user)
    _delivery(None)
    client.force_login(station_manager)
    response = client.get(URL)
    assert response.status_code == 200
    assert _ids(response) == {own.pk, theirs.pk}
    assert not response.context["can_resend"]
    assert b'data-testid="resend"' not in response.content


def test_the_menu_shows_the_log_to_center_managers_only(client, center_manager, station_manager):
    client.force_login(center_manager)
    assert URL in client.get(reverse("center:home")).content.decode()
    client.force_login(station_manager)
    assert URL not in client.get(reverse("center:home")).content.decode()


# --- filters ---------------------------------------------------------------------------------


def test_filters_status_channel_message_dates_and_recipient(client, center_manager, operator):
    operator.mobile = "13800000001"
    operator.save()
    failed = _delivery(operator, status="failed", last_error="gateway 500")
    email = _delivery(operator, channel="email", address="op@example.com", status="sent")
    monthly = _delivery(None, message="center.report.monthly", params={"month": "2026-10"})
    old = _delivery(None, address="13600000002")
    Delivery.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    client.force_login(center_manager)

    def ids(**query):
        return _ids(client.get(URL, query))

    assert ids(status="failed") == {failed.pk}
    assert ids(channel="email") == {email.pk}
    assert ids(message="center.report.monthly") == {monthly.pk}
    since = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert ids(created_from=since) == {failed.pk, email.pk, monthly.pk}
    until = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
    assert ids(created_to=until) == {old.pk}
    # A person with a login: every channel of theirs, by their mobile.
    assert ids(recipient="138 0000 0001") == {failed.pk, email.pk}
    # Someone without a login: the address itself; an email exactly.
    assert ids(recipient="13600000002") == {old.pk}
    assert ids(recipient="op@example.com") == {email.pk}
    assert ids(recipient="13511112222") == set()


def test_titles_render_in_the_viewers_language(client, center_manager, volunteer_user):
    _delivery(volunteer_user, status="failed")
    client.force_login(center_manager)
    zh = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "您已达到 3 星" in zh and "发送失败" in zh and "短信" in zh
    with translation.override("en"):
        en = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You reached 3 stars" in en and "您已达到" not in en


def test_a_key_no_longer_known_shows_the_key(client, center_manager):
    _delivery(None, message="gone.message.key", params={})
    client.force_login(center_manager)
    assert "gone.message.key" in client.get(URL).content.decode()


# --- failures of the last day ----------------------------------------------------------------


def test_failures_of_the_last_day_are_counted_by_channel(client, center_manager, station_manager):
    _delivery(None, status="failed")
    _delivery(None, status="failed", channel="email", address="a@example.com")
    _delivery(station_manager, status="failed")
    yesterday = _delivery(None, status="failed")
    Delivery.objects.filter(pk=yesterday.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    _delivery(None, status="sent")
    assert selectors_delivery.failed_recently(user=center_manager) == {"sms": 2, "email": 1}
    assert selectors_delivery.failed_recently(user=station_manager) == {"sms": 1}
    client.force_login(center_manager)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["failed_total"] == 3
    assert "3 messages failed in the last 24 hours" in response.content.decode()


# --- resending -------------------------------------------------------------------------------


def test_center_manager_resends_a_failed_delivery(
    client, center_manager, django_capture_on_commit_callbacks
):
    row = _delivery(None, status="failed", attempts=5, last_error="gateway 500")
    client.force_login(center_manager)
    page = client.get(URL)
    assert b'data-testid="resend"' in page.content
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("center:delivery_resend", args=[row.pk]), {"next": f"{URL}?status=failed"}
        )
    assert response.status_code == 302 and response["Location"] == f"{URL}?status=failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    assert callbacks, "queued for sending after commit"
    entry = AuditEntry.objects.get(action="center.delivery.resent")
    assert entry.actor == center_manager and entry.target_id == str(row.pk)


def test_resend_refuses_what_did_not_fail(client, center_manager):
    row = _delivery(None, status="sent")
    client.force_login(center_manager)
    response = client.post(reverse("center:delivery_resend", args=[row.pk]), follow=True)
    assert "只有发送失败或已取消的消息才能重新发送。" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "sent"
    assert not AuditEntry.objects.filter(action="center.delivery.resent").exists()


def test_resend_refuses_an_outside_next(client, center_manager):
    row = _delivery(None, status="failed")
    client.force_login(center_manager)
    response = client.post(
        reverse("center:delivery_resend", args=[row.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == URL


@pytest.mark.parametrize("who", ["station_manager", "operator", "volunteer_user", "outsider"])
def test_only_center_managers_resend(client, request, who):
    user = request.getfixturevalue(who)
    row = _delivery(user, status="failed")
    client.force_login(user)
    assert client.post(reverse("center:delivery_resend", args=[row.pk])).status_code == 403
    assert client.get(reverse("center:delivery_resend", args=[row.pk])).status_code == 405
    row.refresh_from_db()
    assert row.status == "failed"


def test_a_real_notification_shows_in_the_log(client, center_manager, operator):
    operator.mobile = "13800000009"
    operator.save()
    notify(
        recipient=operator,
        key="t.1",
        kind="volunteers.star",
        message="volunteers.star.reached",
        params=STAR,
        urgent=True,
    )
    client.force_login(center_manager)
    rows = list(client.get(URL).context["object_list"])
    assert [(d.channel, d.masked) for d in rows] == [("sms", "138****0009")]


# --- cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["center_manager", "station_manager"])
def test_the_page_costs_the_same_for_5_or_60_rows(
    client, request, who, station, django_assert_num_queries
):
    user = request.getfixturevalue(who)
    other = UserFactory(role=Role.STATION_MANAGER, stations=[station])
    client.force_login(user)

    def add(n):
        for i in range(n):
            _delivery(user if i % 2 else other, status="failed" if i % 3 == 0 else "sent")

    add(5)
    # session, user, the page's rows with their recipients, the day's
    # failures by channel, the count (capped at COUNT_CAP + 1 rows); a station
    # manager: + their stations, + the managers of those, + the page's ids
    # merged from each manager's range of delivery_recipient (then the rows).
    budget = 5 if who == "center_manager" else 8
    with django_assert_num_queries(budget):
        first = client.get(URL)
    add(55)
    with django_assert_num_queries(budget):
        second = client.get(URL)
    assert len(first.context["object_list"]) == 5
    assert len(second.context["object_list"]) == 50
    assert second.context["page_obj"].has_next()
    older = client.get(URL, {"after": second.context["page_obj"].next_cursor})
    assert len(older.context["object_list"]) == 10


def test_a_held_message_says_until_when(client, center_manager):
    """Quiet hours or a backoff: a pending row due later shows when it will
    leave, so staff can tell it from one stuck behind a stopped worker."""
    held = _delivery()
    Delivery.objects.filter(pk=held.pk).update(
        not_before=timezone.now() + datetime.timedelta(hours=3)
    )
    due = _delivery()
    client.force_login(center_manager)
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert body.count('data-testid="held-until"') == 1
    held.refresh_from_db()
    local = timezone.localtime(held.not_before)
    assert f"held until {local:%m-%d %H:%M}" in body
    assert due.pk in _ids(client.get(URL))
