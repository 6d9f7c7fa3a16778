import pytest

from center.models import AuditEntry
from center.pagination import CappedPaginator

pytestmark = pytest.mark.django_db


def test_capped_paginator_stops_counting_at_the_cap(django_assert_num_queries):
    AuditEntry.objects.bulk_create([AuditEntry(action="x") for _ in range(130)])
    paginator = CappedPaginator(AuditEntry.objects.all(), 20)
    paginator.cap = 100
    with django_assert_num_queries(1):
        assert paginator.count == 101
    assert paginator.count_capped
    assert paginator.display_count == "100+"
    assert paginator.num_pages == 6


def test_capped_paginator_counts_exactly_below_the_cap():
    AuditEntry.objects.bulk_create([AuditEntry(action="x") for _ in range(7)])
    paginator = CappedPaginator(AuditEntry.objects.all(), 5)
    assert paginator.count == 7 and not paginator.count_capped
    assert paginator.display_count == "7"


@pytest.mark.postgres
def test_capped_count_uses_a_limited_subquery_on_postgresql(django_assert_num_queries):
    from django.db import connection

    assert connection.vendor == "postgresql"
    AuditEntry.objects.bulk_create([AuditEntry(action="x") for _ in range(30)])
    paginator = CappedPaginator(AuditEntry.objects.all(), 5)
    paginator.cap = 10
    with django_assert_num_queries(1) as captured:
        assert paginator.count == 11
    assert "LIMIT 11" in captured.captured_queries[0]["sql"]
