"""Two records of every order step, written together by ``services._event``:
the order's timeline (OrderEvent) and the one who-did-what log (AuditEntry);
and the audit entries of the hotline's other writes, with nothing personal."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError

from center.models import AuditEntry
from requests import services
from requests.models import OrderEvent, Resident, ServiceRequest
from tests.factories import UserFactory
from tests.requests.conftest import near

pytestmark = pytest.mark.django_db


def _order_entries(order):
    return AuditEntry.objects.filter(
        target_type="requests.servicerequest", target_id=str(order.pk)
    ).order_by("id")


def test_every_order_step_writes_an_audit_entry_with_its_timeline_action(
    make_order, operator, near_volunteer, station, item
):
    order = make_order(caller_phone="13812345678")
    services.order_merge(actor=operator, order=order, caller_phone="13812345678", note="又打来")
    services.order_urge(actor=operator, order=order, note="快点")
    services.order_offer(actor=operator, order=order)
    user = near_volunteer.user
    services.order_take(actor=user, order=order, provider=near_volunteer)
    services.order_return(actor=user, order=order, reason="临时有事", provider=near_volunteer)
    other = near(station, item, 2, user=UserFactory(role="volunteer"))
    user = other.user
    services.order_assign(actor=operator, order=order, provider=other)
    services.order_take(actor=user, order=order, provider=other)
    services.order_on_the_way(actor=user, order=order, provider=other)
    services.order_arrive(actor=user, order=order, provider=other)
    services.order_complete(
        actor=user, order=order, provider=other, notes="修好", fee=Decimal("80")
    )
    services.follow_up_record(
        actor=operator, order=order, satisfaction="unsatisfied", score=2, reopen=True
    )
    services.order_cancel(actor=operator, order=order, reason="居民不需要了")

    events = list(OrderEvent.objects.filter(order=order).order_by("id"))
    entries = list(_order_entries(order))
    assert [e.action for e in events] == [a.action for a in entries]
    assert {e.action.rsplit(".", 1)[-1] for e in events} >= {
        "received",
        "merged",
        "urged",
        "offered",
        "taken",
        "returned",
        "assigned",
        "on_the_way",
        "arrived",
        "completed",
        "reopened",
        "cancelled",
    }
    for event, entry in zip(events, entries, strict=True):
        assert entry.actor_id == event.actor_id
        assert entry.data["event"] == event.pk  # the log points at its timeline row
    # The caller's number is in the log and on the timeline masked only.
    merged = next(a for a in entries if a.action == "requests.order.merged")
    assert merged.data["caller_phone"] == "138****5678"
    assert "13812345678" not in json.dumps([a.data for a in entries])
    assert "13812345678" not in json.dumps([e.data for e in events])


def test_system_steps_are_logged_without_an_actor(make_order, operator, settings, near_volunteer):
    settings.LIANXIN = {**settings.LIANXIN, "OFFER_MAX_RINGS": 1}
    order = make_order()
    services.order_offer(actor=operator, order=order)
    services.order_widen(order_id=order.pk, ring=1)  # the task: no one did it
    entry = _order_entries(order).last()
    assert (entry.action, entry.actor) == ("requests.order.offer_exhausted", None)


def test_a_refused_step_writes_neither(make_order, operator):
    order = make_order()
    before = (OrderEvent.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError):
        services.order_cancel(actor=operator, order=order, reason=" ")
    with pytest.raises(ValidationError):
        services.order_arrive(actor=operator, order=order)  # not taken yet
    assert (OrderEvent.objects.count(), AuditEntry.objects.count()) == before


def test_a_step_whose_audit_write_fails_leaves_neither_record_nor_change(
    make_order, operator, monkeypatch
):
    """The timeline row is written first; if the audit log's insert then fails
    (the database refusing it), the whole step rolls back: no timeline row, no
    entry, the status unchanged."""
    order = make_order()
    before = (OrderEvent.objects.count(), AuditEntry.objects.count())

    def refuse(**kwargs):
        raise DatabaseError("audit log unavailable")

    monkeypatch.setattr(services, "audit", refuse)
    with pytest.raises(DatabaseError):
        services.order_cancel(actor=operator, order=order, reason="居民不需要了")
    order.refresh_from_db()
    assert order.status == ServiceRequest.Status.RECEIVED
    assert (OrderEvent.objects.count(), AuditEntry.objects.count()) == before


# --- Residents ------------------------------------------------------------------------


def test_resident_create_is_audited_without_personal_data(operator, community):
    resident = services.resident_create(
        actor=operator,
        data={"name": "孙奶奶", "address": "梅湾街5号", "community": community},
        phones=["13700007777", "0573-8234 5678"],
    )
    entry = AuditEntry.objects.get(action="requests.resident.created")
    assert (entry.actor, entry.target_type, entry.target_id) == (
        operator,
        "requests.resident",
        str(resident.pk),
    )
    logged = json.dumps(entry.data, ensure_ascii=False)
    for personal in ("孙奶奶", "梅湾街", "13700007777", "7777", "82345678"):
        assert personal not in logged
    assert entry.data == {"phones": 2}


def test_resident_update_logs_what_changed_never_the_values(operator, resident):
    services.resident_update(
        actor=operator,
        resident=resident,
        data={"name": "王奶奶", "address": resident.address},
        phones=[("13812345678", "家"), ("13955556666", "")],
        contacts=[{"name": "王小红", "relation": "女儿", "phone": "13900009999"}],
    )
    resident.refresh_from_db()
    assert resident.name == "王奶奶"
    assert sorted(resident.phones.values_list("number", "label")) == [
        ("13812345678", "家"),
        ("13955556666", ""),
    ]
    entry = AuditEntry.objects.get(action="requests.resident.updated")
    assert entry.data == {
        "fields": ["name"],
        "phones_added": 1,
        "phones_removed": 0,
        "phones_relabelled": 1,
        "contacts_added": 1,
        "contacts_removed": 0,
    }
    # Nothing changed: nothing logged; the last phone cannot go.
    services.resident_update(actor=operator, resident=resident, data={"name": "王奶奶"})
    assert AuditEntry.objects.filter(action="requests.resident.updated").count() == 1
    with pytest.raises(ValidationError):
        services.resident_update(actor=operator, resident=resident, data={}, phones=[])
    assert resident.phones.count() == 2


def _resident_admin_post(resident=None, *, name, phones, contacts=()):
    """The resident admin's change form as a browser posts it, with its two inlines."""
    data = {"name": name, "address": "梅湾街5号", "community": "", "notes": ""}
    for prefix, rows, fields in (
        ("phones", phones, ("number", "label")),
        ("contacts", contacts, ("name", "relation", "phone", "kind", "priority")),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.get("id", "")
            data[f"{prefix}-{i}-resident"] = resident.pk if resident else ""
            for f in fields:
                data[f"{prefix}-{i}-{f}"] = row.get(
                    f, {"kind": "family", "priority": "1"}.get(f, "")
                )
            if row.get("DELETE"):
                data[f"{prefix}-{i}-DELETE"] = "on"
    return data


def test_admin_resident_saves_go_through_the_services(client, center_manager):
    client.force_login(center_manager)
    response = client.post(
        "/admin/requests/resident/add/",
        _resident_admin_post(
            name="孙奶奶",
            phones=[{"number": "137 0000 7777", "label": "手机"}],
            contacts=[{"name": "孙小明", "relation": "儿子", "phone": "13900001111"}],
        ),
    )
    assert response.status_code == 302, response.context["errors"]
    resident = Resident.objects.get(name="孙奶奶")
    phone = resident.phones.get()
    assert (phone.number, phone.label) == ("13700007777", "手机")
    assert resident.contacts.get().phone == "13900001111"
    assert AuditEntry.objects.filter(
        action="requests.resident.created", target_id=str(resident.pk), actor=center_manager
    ).exists()

    # Rename, drop the number for a new one: one update entry.
    response = client.post(
        f"/admin/requests/resident/{resident.pk}/change/",
        _resident_admin_post(
            resident,
            name="孙奶奶（梅湾街）",
            phones=[
                {"id": phone.pk, "number": "13700007777", "DELETE": True},
                {"number": "13811112222"},
            ],
            contacts=[
                {
                    "id": resident.contacts.get().pk,
                    "name": "孙小明",
                    "relation": "儿子",
                    "phone": "13900001111",
                }
            ],
        ),
    )
    assert response.status_code == 302
    assert list(resident.phones.values_list("number", flat=True)) == ["13811112222"]
    entry = AuditEntry.objects.filter(action="requests.resident.updated").latest("id")
    assert entry.data["fields"] == ["name"]
    assert (entry.data["phones_added"], entry.data["phones_removed"]) == (1, 1)

    # Deleting the last number is refused by the form, before any write.
    kept = resident.phones.get()
    response = client.post(
        f"/admin/requests/resident/{resident.pk}/change/",
        _resident_admin_post(
            resident,
            name="x",
            phones=[{"id": kept.pk, "number": kept.number, "DELETE": True}],
        ),
    )
    assert response.status_code == 200
    resident.refresh_from_db()
    assert resident.name == "孙奶奶（梅湾街）" and resident.phones.get() == kept

    response = client.post(f"/admin/requests/resident/{resident.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Resident.objects.filter(pk=resident.pk).exists()
    assert AuditEntry.objects.get(action="requests.resident.deleted").target_id == str(resident.pk)


def test_a_resident_with_orders_cannot_be_deleted(client, center_manager, make_order):
    order = make_order()
    client.force_login(center_manager)
    client.post(f"/admin/requests/resident/{order.resident_id}/delete/", {"post": "yes"})
    assert Resident.objects.filter(pk=order.resident_id).exists()
    assert not AuditEntry.objects.filter(action="requests.resident.deleted").exists()


def test_provider_load_recount_is_audited(operator, make_order, near_volunteer):
    services.order_assign(actor=operator, order=make_order(), provider=near_volunteer)
    assert services.provider_load_recount(actor=operator) == 1
    entry = AuditEntry.objects.get(action="requests.provider_load.recounted")
    assert (entry.actor, entry.data) == (operator, {"providers": 1})
