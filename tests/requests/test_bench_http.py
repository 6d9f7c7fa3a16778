"""The load test over HTTP (issue 10) runs end to end on a tiny demo data set:
gunicorn on the test database, orders taken through the real form, the
console typed into, a table printed and the server stopped. Budgets are not
checked here (a smoke run), only that it runs."""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection

from center.models import User
from requests.models import ServiceRequest


def _our_gunicorns() -> list[int]:
    """gunicorn processes still started by this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"gunicorn" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # a live server reads only committed rows
def test_bench_http_takes_orders_types_numbers_and_prints_the_table(settings):
    settings.LIANXIN = {
        **settings.LIANXIN,
        "DEMO_VOLUNTEERS": 100,
        "DEMO_ORDER_DAYS": 1,
        "DEMO_ORDERS_PER_DAY": 10,
    }
    call_command("seed_demo", verbosity=0, stdout=StringIO())
    before = ServiceRequest.objects.count()
    out = StringIO()

    call_command(
        "bench_http",
        seconds=2,
        warmup=0.5,
        i_know_this_is_a_test_database=True,
        stdout=out,
    )

    text = out.getvalue()
    assert connection.settings_dict["NAME"] in text  # it ran on the test database
    for row in (
        "intake: POST new order",
        "intake + land: POST + order page",
        "console: lookup as typed",
    ):
        assert row in text
    assert ">= 100 orders/s" in text and "p95 <= 50 ms" in text
    assert "cores busy" in text and "CPU ms per order" in text
    # Orders came in over HTTP, by the bench operators, through the service.
    created = ServiceRequest.objects.filter(created_by__username__startswith="bench-http-")
    assert created.count() == ServiceRequest.objects.count() - before > 0
    assert not created.filter(number="").exists()
    # The server is stopped and the bench operators' sessions are gone.
    assert _our_gunicorns() == []
    operators = User.objects.filter(username__startswith="bench-http-")
    assert operators.count() == 20 and not any(u.has_usable_password() for u in operators)
    assert not Session.objects.exists()  # the only sessions were the bench's


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("name", ["lianxin", "test_lianxin"])
def test_bench_http_refuses_a_database_without_bench_in_its_name(monkeypatch, name):
    monkeypatch.setitem(connection.settings_dict, "NAME", name)
    with pytest.raises(CommandError, match="Refusing"):
        call_command("bench_http", seconds=1, stdout=StringIO())
    assert not User.objects.filter(username__startswith="bench-http-").exists()
