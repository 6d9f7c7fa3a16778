"""Issue 8's data migrations: rows written in the old shape (volunteer /
merchant / team columns on orders, offers, follow-ups, complaints and
sanctions; "closed" orders) arrive pointing at the new provider rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("requests", "0003_tail_search_and_alert_ack"),
    ("volunteers", "0002_importbatch_rows_purged_at"),
    ("center", "0003_notification_message_key"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_rows(apps):
    get = apps.get_model
    district = get("center", "Area").objects.create(code="D", name="南湖区", level="district")
    station = get("center", "Station").objects.create(
        code="S1",
        name="建设分站",
        kind="branch",
        district=district,
        address="建设路1号",
        latitude=Decimal("30.75"),
        longitude=Decimal("120.76"),
    )
    specialty = get("center", "Specialty").objects.create(code="SP", name="家电维修")
    category = get("center", "ServiceCategory").objects.create(code="C", name="家电")
    item = get("center", "ServiceItem").objects.create(
        category=category,
        code="I1",
        name="电视机维修",
        specialty=specialty,
        market_price=100,
        center_price=80,
        typical_minutes=30,
    )
    volunteer = get("volunteers", "Volunteer").objects.create(
        volunteer_no="JX1",
        name="老王",
        mobile="13800000001",
        station=station,
        latitude=Decimal("30.751"),
        longitude=Decimal("120.76"),
        on_duty=True,
        weekly_availability={"sat": [["08:00", "12:00"]]},
    )
    volunteer.specialties.add(specialty)
    merchant = get("volunteers", "Merchant").objects.create(
        name="通达维修部",
        kind="franchise",
        licence_no="L1",
        contact_name="周",
        mobile="15900000001",
    )
    team = get("volunteers", "ServiceTeam").objects.create(
        name="家电分队", kind="specialty", specialty=specialty, station=station, leader=volunteer
    )
    resident = get("requests", "Resident").objects.create(name="孙奶奶")
    now = timezone.now()
    order = get("requests", "ServiceRequest")
    common = {"resident": resident, "item": item, "address": "梅湾街5号", "station": station}
    closed = order.objects.create(
        number="GD1",
        quoted_price=80,
        received_at=now,
        volunteer=volunteer,
        status="closed",
        closed_at=now,
        taken_at=now,
        **common,
    )
    order.objects.create(
        number="GD2",
        quoted_price=80,
        received_at=now,
        merchant=merchant,
        status="taken",
        taken_at=now,
        **common,
    )
    order.objects.create(
        number="GD3", quoted_price=80, received_at=now, team=team, status="dispatched", **common
    )
    get("requests", "OrderOffer").objects.create(
        order=closed, volunteer=volunteer, ring=1, status="accepted"
    )
    complaint = get("volunteers", "Complaint").objects.create(
        volunteer=volunteer, description="迟到", order_reference="GD1", status="valid"
    )
    get("volunteers", "Sanction").objects.create(
        volunteer=volunteer, complaint=complaint, level="warning", starts_on=now.date()
    )
    get("volunteers", "Complaint").objects.create(merchant=merchant, description="收费高")
    get("requests", "FollowUp").objects.create(
        order=closed,
        volunteer=volunteer,
        satisfaction="unsatisfied",
        score=2,
        complaint_id=complaint.pk,
    )


def test_old_rows_point_at_providers_after_the_migrations():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        _old_rows(_migrate(BEFORE))
        _migrate(latest)
        from requests.models import FollowUp, OrderOffer, ServiceRequest
        from volunteers.models import Complaint, Provider, ProviderItem, Sanction

        orders = ServiceRequest.objects.order_by("number")
        assert [(o.status, o.provider.kind) for o in orders] == [
            ("archived", "volunteer"),
            ("taken", "merchant"),
            ("dispatched", "team"),
        ]
        assert orders[0].archived_at is not None
        assert OrderOffer.objects.get().provider.volunteer.name == "老王"
        follow_up = FollowUp.objects.get()
        assert (follow_up.provider.name, follow_up.complaint.description) == ("老王", "迟到")
        assert [c.provider.kind for c in Complaint.objects.order_by("pk")] == [
            "volunteer",
            "merchant",
        ]
        assert Sanction.objects.get().provider.name == "老王"
        volunteer = Provider.objects.get(kind="volunteer")
        assert [(s.weekday, s.start_minute, s.end_minute) for s in volunteer.slots.all()] == [
            (5, 480, 720)
        ]
        assert ProviderItem.objects.get().provider == volunteer  # the specialty's item
        loads = dict(Provider.objects.values_list("kind", "open_orders"))
        assert loads == {"volunteer": 0, "merchant": 1, "team": 1}
    finally:
        _migrate(latest)


def test_numbers_stored_in_clear_on_the_timeline_are_masked():
    from requests.models import OrderEvent
    from tests.factories import ServiceItemFactory, StationFactory

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [("requests", "0005_device_id_validator")]
    try:
        _migrate(before)
        # The rows as that schema had them: the historical models, not today's.
        old = executor.loader.project_state(before).apps
        resident = old.get_model("requests", "Resident").objects.create(name="x")
        order = old.get_model("requests", "ServiceRequest").objects.create(
            number="GD1",
            resident_id=resident.pk,
            item_id=ServiceItemFactory().pk,
            address="x",
            station_id=StationFactory().pk,
            quoted_price=0,
            received_at=timezone.now(),
        )
        OldEvent = old.get_model("requests", "OrderEvent")
        OldEvent.objects.create(
            order_id=order.pk, action="requests.order.merged", data={"caller_phone": "13812345678"}
        )
        OldEvent.objects.create(order_id=order.pk, action="requests.order.taken", data={"x": "1"})
        _migrate(latest)
        merged = OrderEvent.objects.get(action="requests.order.merged")
        assert merged.data == {"caller_phone": "138****5678"}
        assert OrderEvent.objects.get(action="requests.order.taken").data == {"x": "1"}
    finally:
        _migrate(latest)
