"""The dispatch benchmark (issue 8) builds its data set and times the rankings;
here at a tiny size, on the test database."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from requests.models import ServiceRequest
from volunteers.models import Provider, ProviderItem

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


@pytest.mark.parametrize("name", ["lianxin", "test_lianxin"])
def test_refuses_a_database_without_bench_in_its_name(monkeypatch, name):
    monkeypatch.setitem(connection.settings_dict, "NAME", name)
    with pytest.raises(CommandError, match="createdb"):
        call_command("bench_dispatch", samples=1, stdout=StringIO())
    assert Provider.objects.count() == 0  # nothing was written
