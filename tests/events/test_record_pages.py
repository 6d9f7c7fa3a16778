"""The record pages (issue 12): public, with the figures and the highlights
of a month, quarter or year, no personal data, a printable version; the
managers' highlight form, scoped; query counts constant; a closed period's
figures from the cache."""

import datetime
import io

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from center.models import AuditEntry, Role
from events import selectors_record as record
from events.models import Activity, EventPhoto, Highlight, SignUp
from events.services import highlights as hl
from tests.factories import (
    ActivityFactory,
    ResidentFactory,
    ServiceDayFactory,
    ShiftFactory,
    StallFactory,
    UserFactory,
    VenueFactory,
    VolunteerFactory,
)

pytestmark = pytest.mark.django_db


def _url(period, name="events:record_period"):
    return reverse(name, kwargs={"period": period.key})


def _jpeg(name):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    return ContentFile(buf.getvalue(), name=name)


@pytest.fixture
def month():
    """Last month: over, so its figures are cached."""
    return record.current_period(record.Kind.MONTH).previous()


@pytest.fixture
def world(month, station, other_station, center_manager):
    """A day of last month: a stall at A (磨刀, 30 served) with a volunteer
    checked in, a stall at B (理发, 12 served), an activity held at A; the
    A stall is a highlight of the month with a publishable and a private photo."""
    day = ServiceDayFactory(date=month.start + datetime.timedelta(days=3))
    a_stall = StallFactory(
        venue=VenueFactory(day=day, station=station, name="甲站文化广场"),
        service="磨刀",
        people_served=30,
    )
    b_stall = StallFactory(
        venue=VenueFactory(day=day, station=other_station, name="乙站农贸市场"),
        service="乙站理发",
        people_served=12,
    )
    volunteer = VolunteerFactory(name="王秀英", station=station)
    shift = ShiftFactory(stall=a_stall)
    SignUp.objects.create(
        shift=shift,
        volunteer=volunteer,
        status=SignUp.Status.CONFIRMED,
        checked_in_at=shift.starts_at,
    )
    resident = ResidentFactory(name="李阿婆")
    activity = ActivityFactory(
        station=station,
        date=day.date,
        status=Activity.Status.HELD,
        people_served=8,
        title="重阳节走访",
    )
    highlight = hl.highlight_add(
        actor=center_manager,
        period=month.kind,
        period_start=month.start,
        title="磨刀摊前排长队",
        text="一上午磨了三十把刀",
        stall=a_stall,
    )
    public = EventPhoto.objects.create(stall=a_stall, image=_jpeg("a.jpg"), publishable=True)
    private = EventPhoto.objects.create(stall=a_stall, image=_jpeg("b.jpg"), publishable=False)
    return {
        "day": day,
        "a": a_stall,
        "b": b_stall,
        "volunteer": volunteer,
        "resident": resident,
        "activity": activity,
        "highlight": highlight,
        "public": public,
        "private": private,
    }


def test_anyone_reads_the_record_of_a_month(client, month, world):
    response = client.get(_url(month), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    totals = response.context["totals"]
    # 1 day + 1 activity; 1 check-in; 30 + 12 + 8 served.
    assert (totals.events_held, totals.participations, totals.people_served) == (2, 1, 50)
    assert "Events held" in body and "How these figures are counted" in body
    assert "磨刀摊前排长队" in body and "一上午磨了三十把刀" in body
    assert "甲站文化广场" in body  # the venue of the highlight
    assert reverse("events:photo", args=[world["public"].pk]) in body
    assert reverse("events:photo", args=[world["private"].pk]) not in body
    assert reverse("events:record_print", kwargs={"period": month.key}) in body
    assert 'name="subject"' not in body  # no manager form for visitors


def test_public_pages_show_no_personal_data(client, month, world):
    for name in ("events:record_period", "events:record_print"):
        body = client.get(_url(month, name)).content.decode()
        assert world["volunteer"].name not in body
        assert world["resident"].name not in body
        assert world["volunteer"].mobile not in body


def test_record_shows_this_year(client):
    response = client.get(reverse("events:record"))
    assert response.status_code == 200  # the menu's link opens the page itself
    assert response.context["period"] == record.current_period(record.Kind.YEAR)


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q5", "abc", "1999", "2026-1", "2026-q4"])
def test_bad_period_is_404(client, bad):
    for name in ("events:record_period", "events:record_print"):
        assert client.get(reverse(name, kwargs={"period": bad})).status_code == 404


def test_year_page_links_its_quarters_months_and_their_highlights(client, month, world):
    year = record.period_of("year", month.start)
    response = client.get(_url(year))
    body = response.content.decode()
    for q in year.quarters():
        assert _url(q) in body
    assert _url(month) in body  # a month that has started
    assert [h.pk for h in response.context["highlights"]["within"]] == [world["highlight"].pk]
    assert "磨刀摊前排长队" in body


def test_printable_page_has_no_menu_and_print_styles(client, month, world):
    response = client.get(_url(month, "events:record_print"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "navbar" not in body
    assert "css/record-print.css" in body and "data-print" in body
    assert "磨刀摊前排长队" in body
    assert "<style" not in body  # the CSP allows no inline style element


def test_closed_period_page_reads_only_the_highlights_the_second_time(
    client, month, world, django_assert_num_queries
):
    client.get(_url(month))  # computes and caches the figures
    # highlights with their subjects, their stalls' public photos (no activity highlight)
    with django_assert_num_queries(2):
        response = client.get(_url(month))
    assert response.context["totals"].people_served == 50


def test_record_page_query_count_stays_the_same_as_rows_grow(
    client, station, center_manager, django_assert_num_queries
):
    this_month = record.current_period(record.Kind.MONTH)
    today = timezone.localdate()
    day = ServiceDayFactory(date=today)

    def add_row(n):
        stall = StallFactory(venue=VenueFactory(day=day, station=station), people_served=n)
        shift = ShiftFactory(stall=stall)
        SignUp.objects.create(
            shift=shift,
            volunteer=VolunteerFactory(),
            status=SignUp.Status.CONFIRMED,
            checked_in_at=shift.starts_at,
        )
        activity = ActivityFactory(station=station, date=today, status=Activity.Status.HELD)
        for subject in ({"stall": stall}, {"activity": activity}):
            hl.highlight_add(
                actor=center_manager,
                period="month",
                period_start=this_month.start,
                title=f"亮点{n}",
                **subject,
            )
        EventPhoto.objects.create(stall=stall, image=_jpeg(f"{n}.jpg"), publishable=True)

    add_row(1)
    # the five totals (computed: nothing cached yet); highlights; stall photos;
    # activity photos
    with django_assert_num_queries(8):
        assert client.get(_url(this_month)).status_code == 200
    for n in range(2, 7):
        add_row(n)
    cache.clear()  # the open month's totals are kept ten minutes: count them again
    with django_assert_num_queries(8):
        response = client.get(_url(this_month))
    assert len(response.context["highlights"]["own"]) == 12


# --- managers ----------------------------------------------------------------------------


def test_manager_sees_own_candidates_only(client, month, world, station_manager):
    client.force_login(station_manager)
    response = client.get(_url(month))
    body = response.content.decode()
    assert f'value="stall:{world["a"].pk}"' in body
    assert f'value="activity:{world["activity"].pk}"' in body
    assert f'value="stall:{world["b"].pk}"' not in body and "乙站理发" not in body
    assert 'value="day:' not in body  # a whole day: center managers only


def test_manager_adds_a_highlight_from_the_page(client, month, world, station_manager):
    client.force_login(station_manager)
    response = client.post(
        reverse("events:highlight_add"),
        {
            "period": month.key,
            "subject": f"activity:{world['activity'].pk}",
            "title": "走访慰问",
            "text": "",
        },
    )
    assert response.status_code == 302 and response.url == _url(month)
    added = Highlight.objects.get(activity=world["activity"])
    assert (added.period, added.period_start, added.position) == ("month", month.start, 1)


def test_manager_of_another_station_is_refused_for_a_stall(client, month, world, other_station):
    manager_b = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    client.force_login(manager_b)
    data = {"period": month.key, "subject": f"stall:{world['a'].pk}", "title": "x"}
    assert client.post(reverse("events:highlight_add"), data).status_code == 404
    remove = reverse("events:highlight_remove", args=[world["highlight"].pk])
    assert client.post(remove).status_code == 404
    assert Highlight.objects.count() == 1
    # Their own stall is fine.
    data["subject"] = f"stall:{world['b'].pk}"
    assert client.post(reverse("events:highlight_add"), data).status_code == 302
    assert Highlight.objects.filter(stall=world["b"]).exists()


def test_volunteer_operator_and_anonymous_cannot_add_or_remove(
    client, month, world, volunteer_user, operator
):
    data = {"period": month.key, "subject": f"stall:{world['a'].pk}", "title": "x"}
    remove = reverse("events:highlight_remove", args=[world["highlight"].pk])
    response = client.post(reverse("events:highlight_add"), data)
    assert response.status_code == 302 and reverse("login") in response.url
    for user in (volunteer_user, operator):
        client.force_login(user)
        assert client.post(reverse("events:highlight_add"), data).status_code == 403
        assert client.post(remove).status_code == 403
        assert 'name="subject"' not in client.get(_url(month)).content.decode()
    assert client.get(reverse("events:highlight_add")).status_code == 405
    assert Highlight.objects.count() == 1


def test_bad_form_changes_nothing_and_says_why(client, month, world, station_manager):
    client.force_login(station_manager)
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("events:highlight_add"),
        {"period": month.key, "subject": f"stall:{world['a'].pk}", "title": ""},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "This field is required." in response.content.decode()
    response = client.post(
        reverse("events:highlight_add"),
        {"period": month.key, "subject": f"stall:{world['a'].pk}", "title": "again"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "already a highlight" in response.content.decode()
    assert Highlight.objects.count() == 1 and AuditEntry.objects.count() == before


def test_center_manager_removes_and_moves(client, month, world, center_manager):
    client.force_login(center_manager)
    second = hl.highlight_add(
        actor=center_manager,
        period="month",
        period_start=month.start,
        title="乙站亮点",
        stall=world["b"],
    )
    response = client.post(reverse("events:highlight_move", args=[second.pk]), {"direction": "up"})
    assert response.status_code == 302
    assert list(Highlight.objects.order_by("position").values_list("pk", flat=True)) == [
        second.pk,
        world["highlight"].pk,
    ]
    client.post(reverse("events:highlight_remove", args=[world["highlight"].pk]))
    assert list(Highlight.objects.values_list("pk", flat=True)) == [second.pk]
    body = client.get(_url(month)).content.decode()
    assert "磨刀摊前排长队" not in body and "乙站亮点" in body
