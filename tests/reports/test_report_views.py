"""The monthly report's pages: who may open them, what each manager sees,
the files list and its scope, the progress fragment, the download."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from center.models import AuditEntry
from reports import services
from reports.models import ReportExport
from tests.factories import UserFactory
from tests.reports.test_rates import story  # noqa: F401

pytestmark = pytest.mark.django_db
MARCH = {"start": datetime.date(2026, 3, 1), "end": datetime.date(2026, 3, 31)}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
Status = ReportExport.Status


@pytest.fixture(autouse=True)
def report_files(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports"), "base_url": None},
        },
    }


URLS = ["reports:monthly", "reports:export_list"]


@pytest.mark.parametrize("name", URLS)
@pytest.mark.parametrize("who", ["outsider", "volunteer_user", "operator"])
def test_only_managers_open_the_report_pages(client, request, who, name):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("reports:export_create"), {"month": "2026-03"}).status_code == 403


def test_anonymous_goes_to_the_login(client):
    response = client.get(reverse("reports:monthly"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_center_manager_sees_the_city(
    client,
    story,  # noqa: F811
    center_manager,
    station,
    other_station,
):
    client.force_login(center_manager)
    response = client.get(reverse("reports:monthly") + "?month=2026-03", **EN)
    assert response.status_code == 200
    body = response.content.decode()
    report = response.context["report"]
    assert report.is_city and (report.start, report.end) == tuple(MARCH.values())
    assert station.code in body and other_station.code in body
    summary = dict(response.context["summary"])
    assert summary["Orders received"] == "11"  # test_rates' city
    assert summary["Resolution rate"] == "77.8%"  # 7 / 9
    assert 'data-testid="report-section-orders"' in body
    assert "report-print.css" in body


def test_a_station_manager_sees_their_stations_and_cannot_pick_another(
    client,
    story,  # noqa: F811
    station_manager,
    station,
    other_station,
):
    client.force_login(station_manager)
    response = client.get(reverse("reports:monthly") + "?month=2026-03", **EN)
    body = response.content.decode()
    assert station.code in body and other_station.code not in body
    assert dict(response.context["summary"])["Orders received"] == "9"  # station A
    assert f'value="{other_station.pk}"' not in body  # not in the station picker
    response = client.get(
        reverse("reports:monthly") + f"?month=2026-03&station={other_station.pk}", **EN
    )
    assert response.status_code == 200 and "report" not in response.context
    assert 'data-testid="report-errors"' in response.content.decode()


def test_a_center_manager_picks_a_branch(
    client,
    story,  # noqa: F811
    center_manager,
    station,
    other_station,
):
    client.force_login(center_manager)
    response = client.get(
        reverse("reports:monthly") + f"?start=2026-03-01&end=2026-03-31&station={other_station.pk}"
    )
    report = response.context["report"]
    assert report.station_ids == frozenset({other_station.pk})
    assert report.section("orders").rows[-1]["received"] == 2


@pytest.mark.parametrize(
    "query", ["?month=2026-13", "?start=2026-03-01", "?start=2026-03-02&end=2026-03-01"]
)
def test_a_bad_range_shows_an_error_not_a_report(client, center_manager, query):
    client.force_login(center_manager)
    response = client.get(reverse("reports:monthly") + query)
    assert response.status_code == 200 and "report" not in response.context


def test_no_query_shows_last_month(client, center_manager):
    client.force_login(center_manager)
    report = client.get(reverse("reports:monthly")).context["report"]
    assert report.start.day == 1 and (report.end + datetime.timedelta(days=1)).day == 1


def test_asking_for_a_file_from_the_page_writes_it(
    client, center_manager, station, django_capture_on_commit_callbacks
):
    client.force_login(center_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:export_create"),
            {"start": "2026-03-01", "end": "2026-03-31", "station": station.pk, "format": "csv"},
        )
    export = ReportExport.objects.get()
    assert response.status_code == 302 and response["Location"] == export.get_absolute_url()
    assert export.station_ids == [station.pk] and export.format == "csv"
    assert ReportExport.objects.get().status == Status.DONE


def _files(center_manager, station_manager, station, other_station):
    """Done files: the city's, A's, B's, A and B together (asked by the center),
    each written before the next is asked for (MAX_PENDING per person)."""

    def done(actor, **kw):
        export = services.export_request(actor=actor, **MARCH, **kw)
        services.export_write(export.pk)
        return export

    return {
        "mine": done(station_manager, format="xlsx"),
        "city": done(center_manager, format="xlsx"),
        "b": done(center_manager, format="xlsx", station_ids=[other_station.pk]),
        "both": done(center_manager, format="xlsx", station_ids=[station.pk, other_station.pk]),
        "asked_a": done(center_manager, format="csv", station_ids=[station.pk]),
    }


def test_the_files_list_is_scoped_like_the_data(
    client, center_manager, station_manager, station, other_station
):
    files = _files(center_manager, station_manager, station, other_station)
    client.force_login(station_manager)
    response = client.get(reverse("reports:export_list"), **EN)
    shown = {e.pk for e in response.context["exports"]}
    # Theirs, and one the center asked for about their station; not the
    # city's, not B's, not one that also covers B.
    assert shown == {files["mine"].pk, files["asked_a"].pk}
    body = response.content.decode()
    assert str(center_manager) in body and str(station_manager) in body  # who generated it
    client.force_login(center_manager)
    shown = {e.pk for e in client.get(reverse("reports:export_list")).context["exports"]}
    assert shown == {e.pk for e in files.values()}


def test_a_file_link_cannot_be_fetched_by_another_station(
    client, center_manager, station_manager, station, other_station
):
    files = _files(center_manager, station_manager, station, other_station)
    manager_b = UserFactory(role="station_manager", stations=[other_station])
    client.force_login(manager_b)
    for key in ("mine", "city", "both", "asked_a"):
        pk = files[key].pk
        assert client.get(reverse("reports:export_download", args=[pk])).status_code == 404, key
        assert client.get(reverse("reports:export_detail", args=[pk])).status_code == 404, key
        assert client.get(reverse("reports:export_progress", args=[pk])).status_code == 404, key
    ok = client.get(reverse("reports:export_download", args=[files["b"].pk]))
    assert ok.status_code == 200
    b"".join(ok.streaming_content)


def test_the_download_streams_with_a_chinese_safe_name(
    client, center_manager, station_manager, station, other_station
):
    files = _files(center_manager, station_manager, station, other_station)
    ReportExport.objects.filter(pk=files["city"].pk).update(scope_label="全市")
    client.force_login(center_manager)
    response = client.get(reverse("reports:export_download", args=[files["city"].pk]))
    assert response.status_code == 200 and response.streaming
    # Every copy taken is in the audit trail.
    entry = AuditEntry.objects.get(action="reports.export.downloaded")
    assert (entry.actor, entry.target_id) == (center_manager, str(files["city"].pk))
    disposition = response["Content-Disposition"]
    # RFC 5987: the UTF-8 name percent-encoded, never raw bytes in the header.
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert disposition.isascii() and "2026-03_%E5%85%A8%E5%B8%82.xlsx" in disposition
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert b"".join(response.streaming_content)[:2] == b"PK"
    zipped = client.get(reverse("reports:export_download", args=[files["asked_a"].pk]))
    assert zipped["Content-Type"] == "application/zip"


def test_an_unfinished_file_is_not_downloadable_and_its_bar_polls(client, center_manager, station):
    export = services.export_request(actor=center_manager, format="xlsx", **MARCH)  # queued
    ReportExport.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, progress=40, stage="写表"
    )
    client.force_login(center_manager)
    assert client.get(reverse("reports:export_download", args=[export.pk])).status_code == 404
    fragment = client.get(reverse("reports:export_progress", args=[export.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert 'role="progressbar"' in fragment and 'aria-valuenow="40"' in fragment
    assert 'aria-valuemin="0"' in fragment and 'aria-valuemax="100"' in fragment
    assert "width: 40%" in fragment and "写表" in fragment
    assert "<html" not in fragment  # the fragment alone
    page = client.get(reverse("reports:export_detail", args=[export.pk])).content.decode()
    assert "<html" in page and 'hx-trigger="every 1s"' in page
    services.export_write(export.pk)  # a stale claim? no: still fresh, so queue it again
    ReportExport.objects.filter(pk=export.pk).update(status=Status.QUEUED)
    services.export_write(export.pk)
    done = client.get(reverse("reports:export_progress", args=[export.pk])).content.decode()
    assert "hx-trigger" not in done  # finished: the polling stops
    assert 'aria-valuenow="100"' in done and 'data-testid="export-download"' in done


def test_a_failed_file_shows_its_error(client, center_manager):
    export = services.export_request(actor=center_manager, format="xlsx", **MARCH)
    ReportExport.objects.filter(pk=export.pk).update(status=Status.FAILED, error="磁盘已满")
    client.force_login(center_manager)
    fragment = client.get(reverse("reports:export_progress", args=[export.pk])).content.decode()
    assert "磁盘已满" in fragment and "hx-trigger" not in fragment


def test_the_files_page_costs_the_same_for_many_files(
    client, center_manager, station_manager, station, other_station, django_assert_num_queries
):
    def count():
        with django_assert_num_queries(5) as captured:
            # session, user, the station manager's stations, the station
            # picker's options, the files with their askers
            client.get(reverse("reports:export_list"))
        return captured

    client.force_login(station_manager)
    count()
    ReportExport.objects.bulk_create(
        ReportExport(station_ids=[station.pk], format="xlsx", requested_by=center_manager, **MARCH)
        for _i in range(30)
    )
    count()


def test_a_range_longer_than_the_page_shows_goes_to_a_file(client, center_manager):
    client.force_login(center_manager)
    response = client.get(reverse("reports:monthly") + "?start=2026-01-01&end=2026-03-31", **EN)
    assert response.status_code == 200 and "report" not in response.context
    body = response.content.decode()
    assert 'data-testid="report-too-long"' in body
    assert 'name="start" value="2026-01-01"' in body and 'value="2026-03-31"' in body


@pytest.mark.parametrize(
    "query",
    [
        "?station=99999999999999999999999",
        "?station=abc",
        "?month=9999-99",
        "?start=garbage&end=2026-03-01",
        "?month=2026-03&detail=1&station=",
    ],
)
def test_hostile_parameters_never_500(client, center_manager, query):
    client.force_login(center_manager)
    assert client.get(reverse("reports:monthly") + query).status_code == 200
    response = client.post(reverse("reports:export_create"), {"station": query[9:], "month": "x"})
    assert response.status_code == 302
    assert not ReportExport.objects.exists()


def test_the_same_file_asked_twice_while_queued_is_one_file(center_manager, station):
    first = services.export_request(actor=center_manager, format="xlsx", **MARCH)
    again = services.export_request(actor=center_manager, format="xlsx", **MARCH)
    assert again.pk == first.pk and ReportExport.objects.count() == 1
    other = services.export_request(actor=center_manager, format="csv", **MARCH)
    assert other.pk != first.pk


def test_no_more_than_three_files_queued_per_person(center_manager, station_manager, station):
    for day in (1, 2, 3):
        services.export_request(
            actor=center_manager,
            format="xlsx",
            start=datetime.date(2026, 3, day),
            end=datetime.date(2026, 3, 31),
        )
    with translation.override("en"), pytest.raises(ValidationError, match="still being written"):
        services.export_request(actor=center_manager, format="csv", **MARCH)
    assert ReportExport.objects.count() == 3
    # someone else is not held up, and a finished file frees a place
    services.export_request(actor=station_manager, format="xlsx", **MARCH)
    services.export_write(ReportExport.objects.filter(requested_by=center_manager).first().pk)
    services.export_request(actor=center_manager, format="csv", **MARCH)
    assert ReportExport.objects.filter(requested_by=center_manager).count() == 4


def test_report_files_go_to_their_own_queue(settings):
    from center.celery import app

    assert app.amqp.router.route({}, "reports.tasks.write_report")["queue"].name == "reports"
    assert app.amqp.router.route({}, "requests.tasks.widen_offer")["queue"].name == "celery"
