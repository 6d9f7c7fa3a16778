"""The benchmarks (issues 8 and 10) build their data set and time what they
promise; here at a tiny size, on the test database (CI's smoke run: the
commands must run and print their tables, not meet the budgets)."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, models

from center.models import User
from requests.bench import budgets, build
from requests.bench.docs import END, START, replace_section
from requests.models import OrderEvent, Resident, ResidentPhone, ServiceRequest
from volunteers.models import Complaint, Provider, ProviderItem, Sanction, Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_builds_a_tiny_city_and_prints_the_median():
    out = StringIO()
    call_command(
        "bench_dispatch",
        volunteers=300,
        orders=2000,
        merchants=20,
        samples=3,
        explain=True,
        i_know_this_is_a_test_database=True,
        stdout=out,
    )
    text = out.getvalue()
    assert "median" in text
    assert "volunteer_candidates" in text and "team_candidates" in text
    assert "Execution Time" in text  # --explain printed the slowest query's plan
    assert Provider.objects.filter(kind=Provider.Kind.VOLUNTEER).count() == 300
    assert ServiceRequest.objects.count() == 2000

    # What each volunteer can do is what ProviderItem.refresh would write.
    def can_do(provider):
        return set(
            ProviderItem.objects.filter(provider=provider).values_list(
                "item_id", "station_id", "latitude", "longitude"
            )
        )

    providers = Provider.objects.filter(kind=Provider.Kind.VOLUNTEER).select_related("volunteer")
    assert ProviderItem.objects.exists()
    for provider in providers.order_by("pk")[:30]:
        built = can_do(provider)
        ProviderItem.refresh(provider, provider.volunteer)
        assert can_do(provider) == built
    # The denormalised load agrees with the orders.
    busy = Provider.objects.filter(open_orders__gt=0).first()
    if busy is not None:
        assert (
            ServiceRequest.objects.filter(provider=busy, status__in=ServiceRequest.OPEN).count()
            == busy.open_orders
        )


@pytest.mark.parametrize("command", ["bench_dispatch", "bench"])
@pytest.mark.parametrize("name", ["lianxin", "test_lianxin"])
def test_refuses_a_database_without_bench_in_its_name(monkeypatch, name, command):
    monkeypatch.setitem(connection.settings_dict, "NAME", name)
    with pytest.raises(CommandError, match="createdb"):
        call_command(command, samples=1, stdout=StringIO())
    assert Provider.objects.count() == 0  # nothing was written


def test_bench_smoke_run_builds_the_city_and_prints_every_budgeted_case(tmp_path):
    out = StringIO()
    call_command(
        "bench",
        scale=0.01,
        repeat=1,
        samples=3,
        jobs=1,
        explain_dir=str(tmp_path),
        i_know_this_is_a_test_database=True,
        stdout=out,
    )
    text = out.getvalue()
    sizes = build.Sizes.for_scale(0.01)
    assert ServiceRequest.objects.count() == sizes.orders
    assert Resident.objects.count() == sizes.residents
    assert Volunteer.objects.count() == sizes.volunteers

    # The table: a row per budgeted case, none of them failing.
    world_rows = [line for line in text.splitlines() if re.search(r"\b(OK|OVER|ERROR)$", line)]
    labels = {"orders list, busiest branch", "order detail with the dispatch ranking"}
    for label in labels:
        assert any(line.startswith(label) for line in world_rows), label
    assert not [line for line in world_rows if "ERROR" in line], text
    assert "page volunteers:volunteer_list" in text  # the swept pages are timed too
    assert {p.stem for p in tmp_path.glob("*.txt")} >= set(budgets.BUDGETS) - {
        "intake_post",  # its statements are writes and the landing page's reads
    }
    assert "Execution Time" in (tmp_path / "orders_busy_station.txt").read_text()
    # What the timed runs wrote is gone: no order beyond the built ones.
    assert ServiceRequest.objects.count() == sizes.orders

    # Built once: the next run at the same scale and seed reuses it.
    again = StringIO()
    call_command(
        "bench",
        scale=0.01,
        repeat=1,
        samples=3,
        only=["monthly"],
        explain_dir=str(tmp_path),
        i_know_this_is_a_test_database=True,
        stdout=again,
    )
    assert "Reusing the data set" in again.getvalue()
    assert "monthly station" in again.getvalue()


def test_the_city_keeps_the_models_rules():
    sizes = build.Sizes.for_scale(0.002)
    build.Builder(sizes=sizes, seed=0.5, out=lambda line: None).build(0.002)
    # Numbers stored as the validators store them: mobiles and 0573 landlines.
    numbers = list(ResidentPhone.objects.values_list("number", flat=True))
    assert numbers and all(re.fullmatch(r"1[3-9]\d{9}|0573[2-9]\d{7}", n) for n in numbers)
    assert any(n.startswith("0573") for n in numbers)
    # An in-service member names an employer; a suspension has an end.
    assert not Volunteer.objects.filter(kind="in_service", organization__isnull=True).exists()
    assert not Volunteer.objects.filter(status="suspended", suspended_until__isnull=True).exists()
    # Complaints point at the provider of the order whose follow-up raised them.
    complaint = Complaint.objects.select_related("follow_up__order").first()
    assert complaint is not None
    assert complaint.follow_up.order.provider_id == complaint.provider_id
    assert Sanction.objects.filter(complaint__status="valid").count() == (
        Complaint.objects.filter(status="valid").count()
    )
    # Unmatched needs keep their normalised words, as the service writes them.
    from requests.models import UnmatchedRequest, unmatched_words

    needs = list(UnmatchedRequest.objects.values_list("text", "words"))
    assert needs and all(words == unmatched_words(text) for text, words in needs)
    # Timeline rows only for the latest orders; order numbers as order_create writes them.
    with_events = OrderEvent.objects.order_by("order_id").values_list("order_id", flat=True)
    assert with_events[0] > sizes.orders - sizes.timeline_orders
    order = ServiceRequest.objects.order_by("pk").first()
    assert re.fullmatch(rf"GD\d{{8}}{order.pk:07d}", order.number)
    # The logins the timed pages need, none of them usable with a password.
    manager = User.objects.get(username=build.STATION_MANAGER)
    assert manager.stations.filter(kind="branch").exists()
    assert not User.objects.get(username=build.OPERATOR).has_usable_password()
    assert "hold" in build.check_constraints()


def test_write_docs_replaces_only_the_marked_section(tmp_path):
    path = tmp_path / "performance.md"
    path.write_text(f"# Notes\n\nbefore\n\n{START}\nold table\n{END}\n\nafter\n")
    replace_section(path, "new table")
    text = path.read_text()
    assert "new table" in text and "old table" not in text
    assert text.startswith("# Notes\n\nbefore") and text.endswith("after\n")


def _fingerprint() -> tuple:
    """What the builder chose, without the times (they follow the clock)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT md5(string_agg(concat_ws(':', id, number IS NOT NULL, resident_id, station_id,"
            " provider_id, status, caller_phone, item_id), ',' ORDER BY id))"
            " FROM requests_servicerequest"
        )
        orders = cur.fetchone()[0]
        cur.execute(
            "SELECT md5(string_agg(concat_ws(':', v.id, v.station_id, v.kind, v.status,"
            " v.latitude, v.on_duty), ',' ORDER BY v.id)) FROM volunteers_volunteer v"
        )
        volunteers = cur.fetchone()[0]
        cur.execute(
            "SELECT md5(string_agg(concat_ws(':', resident_id, number), ',' ORDER BY id))"
            " FROM requests_residentphone"
        )
        phones = cur.fetchone()[0]
    return orders, volunteers, phones, Complaint.objects.count()


def test_the_same_seed_builds_the_same_city():
    sizes = build.Sizes.for_scale(0.002)
    build.Builder(sizes=sizes, seed=0.25, out=lambda line: None).build(0.002)
    first = _fingerprint()
    build.Builder(sizes=sizes, seed=0.25, out=lambda line: None).build(0.002)
    assert _fingerprint() == first
    build.Builder(sizes=sizes, seed=0.75, out=lambda line: None).build(0.002)
    assert _fingerprint() != first


def test_a_build_stopped_after_dropping_the_indexes_loses_none(monkeypatch):
    sizes = build.Sizes.for_scale(0.002)

    def stop(self):
        raise RuntimeError("stopped half-way")

    monkeypatch.setattr(build.Builder, "_areas", stop)
    with pytest.raises(RuntimeError):
        build.Builder(sizes=sizes, seed=0.5, out=lambda line: None).build(0.002)
    monkeypatch.undo()
    # The indexes the first build dropped are rebuilt by the next one.
    build.Builder(sizes=sizes, seed=0.5, out=lambda line: None).build(0.002)
    assert "hold" in build.check_constraints()
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'order_station'")
        assert cur.fetchone() is not None


def test_the_city_has_a_registry_pairings_and_wishes():
    from requests.models import CareVisit, MicroWish, Pairing, WishAdoption

    sizes = build.Sizes.for_scale(0.002)
    build.Builder(sizes=sizes, seed=0.5, out=lambda line: None).build(0.002)
    special = Resident.objects.filter(is_special=True)
    assert 0.05 < special.count() / Resident.objects.count() < 0.15
    assert not special.filter(groups__isnull=True).exists()
    assert not Resident.objects.filter(is_special=False, groups__isnull=False).exists()
    # Every pairing is a special resident's, its next visit one cadence after the last.
    pairing = Pairing.objects.order_by("pk").first()
    assert pairing.resident.is_special
    assert (pairing.next_visit_due - pairing.last_visit_on).days == pairing.cadence_days
    assert CareVisit.objects.filter(pairing=pairing, visited_on=pairing.last_visit_on).exists()
    # Adopted wishes have every share taken, by an adoption.
    adopted = MicroWish.objects.filter(status__in=["adopted", "contacted", "confirmed"])
    assert adopted.exists()
    assert not adopted.exclude(shares_taken=models.F("shares")).exists()
    assert WishAdoption.objects.filter(wish__in=adopted).count() == adopted.count()
    assert "hold" in build.check_constraints()


def test_the_city_has_service_days_and_activities_with_their_hours():
    import datetime

    from django.utils import timezone

    from events.models import Activity, Participation, ServiceDay, Shift, SignUp
    from events.services.days import last_saturday
    from volunteers.models import HoursEntry

    sizes = build.Sizes.for_scale(0.002)
    build.Builder(sizes=sizes, seed=0.5, out=lambda line: None).build(0.002)
    today = timezone.localdate()
    days = list(ServiceDay.objects.order_by("date"))
    assert len(days) == 61  # five years back, this month and the next
    assert all(d.date == last_saturday(d.date.year, d.date.month) for d in days)
    assert days[-1].date > today and days[-1].venues.exists()
    # Places taken are the confirmed sign-ups, never over capacity.
    for shift in Shift.objects.order_by("?")[:20]:
        assert shift.taken == shift.signups.filter(status="confirmed").count() <= shift.capacity
    # Attended sign-ups (past days only) have their hours, once, as service-day hours.
    attended = SignUp.objects.filter(checked_out_at__isnull=False)
    assert attended.exists()
    assert not attended.filter(shift__starts_at__gt=timezone.now()).exists()
    assert HoursEntry.objects.filter(source="service_day").count() == attended.count()
    # Activities: held in the past, planned ahead; attended participants credited.
    assert not Activity.objects.filter(status="held", date__gte=today).exists()
    assert Activity.objects.filter(status="planned", date__gt=today + datetime.timedelta(days=1))
    assert HoursEntry.objects.filter(source="activity").count() == (
        Participation.objects.filter(status="attended").count()
    )
    assert "hold" in build.check_constraints()
