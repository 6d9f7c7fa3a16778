"""The weathervane page (/weathervane/), its city snapshot and the hourly
refresh task. The figures themselves: tests/reports/test_weathervane.py
(the ``story`` fixture and its hand-computed numbers are there)."""

import re

import pytest
import time_machine
from django.urls import reverse

from reports import selectors_weathervane as wv
from reports import tasks
from reports.models import DashboardSnapshot
from tests.factories import ResidentFactory, ServiceItemFactory
from tests.reports.test_weathervane import MARCH, at, orders, story  # noqa: F401

pytestmark = pytest.mark.django_db

URL = reverse("reports:weathervane")
NOW = at(2026, 4, 10, 9, 30)  # Asia/Shanghai


def page(client, user, query=""):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(URL + query, HTTP_ACCEPT_LANGUAGE="en")


def row_ids(html, testid):
    return [int(pk) for pk in re.findall(rf'data-testid="{testid}-row" data-id="(\d+)"', html)]


def test_station_manager_sees_their_stations_risers(client, story, station_manager):  # noqa: F811
    i1, i2, i3, _i4 = story["i"]
    response = page(client, station_manager)
    assert response.status_code == 200
    html = response.content.decode()
    assert row_ids(html, "weathervane-items") == [i2.pk, i1.pk, i3.pk]
    assert (
        "Orders received: 57 in this period, 43 in the previous period, 38 a year earlier." in html
    )
    assert "2026-01-29 – 2026-02-28" in html  # the previous period shown with its dates
    assert "as of 09:30" in html
    assert not DashboardSnapshot.objects.exists()  # live: no snapshot for a station


def test_ranking_against_last_year_by_percent(client, story, station_manager):  # noqa: F811
    _i1, i2, _i3, _i4 = story["i"]
    html = page(client, station_manager, "?vs=year&by=percent").content.decode()
    assert row_ids(html, "weathervane-items") == [i2.pk]
    assert "+20.0 %" in html


def test_a_chosen_window_and_month(client, story, station_manager):  # noqa: F811
    html = page(client, station_manager, "?period=d7").content.decode()
    assert "2026-04-03 – 2026-04-09" in html
    assert row_ids(html, "weathervane-items") == []  # nothing in those days
    html = page(client, station_manager, "?period=month&month=2026-02").content.decode()
    assert "2026-02-01 – 2026-02-28" in html


def test_the_unmatched_groups_and_counts_per_category(client, story, station_manager):  # noqa: F811
    html = page(client, station_manager).content.decode()
    totals = re.findall(r'data-testid="total">(\d+)<', html)
    assert totals == ["12", "8", "2", "1"]
    assert "3 wordings" in html
    assert "K1社区 (7), K2社区 (1)" in html
    assert 'id="weathervane-categories-data"' in html


def test_an_unmatched_group_links_to_the_unmatched_list(client, story, station_manager):  # noqa: F811
    html = page(client, station_manager).content.decode()
    life = story["life"].pk
    href = (
        f"{reverse('requests:unmatched_list')}?date_from=2026-03-01&amp;date_to=2026-03-31"
        f"&amp;category={life}&amp;q=%E4%BB%A3%E4%B9%B0%E8%8D%AF"  # 代买药
    )
    assert f'href="{href}"' in html
    # No category: no category parameter.
    assert "date_to=2026-03-31&amp;q=%E5%8A%A0%E8%A3%85%E7%94%B5%E6%A2%AF" in html  # 加装电梯
    with time_machine.travel(NOW, tick=False):
        assert client.get(href.replace("&amp;", "&")).status_code == 200


def test_charts_come_from_static_files_and_json_data_only(client, story, operator):  # noqa: F811
    html = page(client, operator).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    for attrs, body in scripts:
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
        if "src=" in attrs:
            assert body.strip() == ""
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/charts.js" in html
    assert 'data-testid="chart-weathervane-items"' in html


@pytest.mark.parametrize("who", ["outsider", "volunteer_user"])
def test_outsider_and_volunteer_are_refused(client, request, who):
    assert page(client, request.getfixturevalue(who)).status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- The city's snapshot -----------------------------------------------------------------


def test_the_city_is_computed_once_and_kept(
    client,
    story,  # noqa: F811
    station,
    operator,
    center_manager,
):
    html = page(client, operator).content.decode()
    snapshot = DashboardSnapshot.objects.get()
    assert snapshot.key == "weathervane:city:m:2026-03"
    assert "Orders received: 107 in this period" in html
    # Later orders do not show until the snapshot is refreshed: the page reads it.
    orders(
        5,
        item=story["i"][0],
        station=station,
        community=None,
        when=at(2026, 3, 3),
        resident=ResidentFactory(),
    )
    later = at(2026, 4, 10, 10, 15)
    client.force_login(center_manager)
    with time_machine.travel(later, tick=False):
        html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Orders received: 107 in this period" in html
    assert "as of 09:30" in html
    assert DashboardSnapshot.objects.count() == 1
    with time_machine.travel(later, tick=False):
        wv.snapshot_refresh(MARCH)
        html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Orders received: 112 in this period" in html
    assert "as of 10:15" in html


@pytest.mark.parametrize("n", [10, 200])
def test_city_page_reads_the_snapshot_in_constant_queries(
    client, django_assert_num_queries, operator, station, n
):
    orders(
        n,
        item=ServiceItemFactory(),
        station=station,
        community=None,
        when=at(2026, 3, 3),
        resident=ResidentFactory(),
    )
    with time_machine.travel(NOW, tick=False):
        wv.snapshot_refresh(wv.period_for())
    client.force_login(operator)
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(3):
        # session, user, the snapshot row
        response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert f"Orders received: {n} in this period" in response.content.decode()


@pytest.mark.parametrize("n", [10, 200])
def test_station_manager_page_is_live_in_constant_queries(
    client, django_assert_num_queries, station_manager, station, n
):
    item = ServiceItemFactory()
    for when in (at(2026, 3, 3), at(2026, 2, 3), at(2025, 3, 3)):
        orders(n, item=item, station=station, community=None, when=when, resident=ResidentFactory())
    orders(
        n,
        item=item,
        station=station,
        community=None,
        when=at(2026, 3, 4),
        resident=ResidentFactory(),
    )
    client.force_login(station_manager)
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(6):
        # session, user, the manager's stations, orders per item, orders per
        # community, unmatched requests grouped by words
        response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert f"Orders received: {2 * n} in this period, {n} in the previous period" in (
        response.content.decode()
    )


# --- The hourly task -------------------------------------------------------------------------


def test_refresh_task_is_idempotent_and_drops_past_day_windows(story):  # noqa: F811
    DashboardSnapshot.objects.create(key="weathervane:city:d7:2026-04-01", data={}, computed_at=NOW)
    DashboardSnapshot.objects.create(
        key="weathervane:city:m:2025-11", data={"kept": 1}, computed_at=NOW
    )
    DashboardSnapshot.objects.create(key="city", data={"other": "part C"}, computed_at=NOW)
    with time_machine.travel(NOW, tick=False):
        first = tasks.refresh_weathervane.delay().get()
        data = dict(DashboardSnapshot.objects.values_list("key", "data"))
        second = tasks.refresh_weathervane.delay().get()
    expected = [
        "weathervane:city:m:2026-03",
        "weathervane:city:d7:2026-04-09",
        "weathervane:city:d30:2026-04-09",
    ]
    assert first == second == expected
    assert sorted(DashboardSnapshot.objects.values_list("key", flat=True)) == sorted(
        [*expected, "weathervane:city:m:2025-11", "city"]
    )
    assert dict(DashboardSnapshot.objects.values_list("key", "data")) == data
    assert data["weathervane:city:m:2026-03"]["totals"]["current"] == 107
    d30 = data["weathervane:city:d30:2026-04-09"]
    assert d30["period"] == {"kind": "d30", "start": "2026-03-11", "end": "2026-04-09"}


def test_the_task_is_on_the_beat_schedule():
    from center.celery import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["reports-refresh-weathervane"]
    assert entry["task"] == "reports.tasks.refresh_weathervane"
    assert entry["schedule"].minute == {7}
    assert entry["schedule"].hour == set(range(24))
