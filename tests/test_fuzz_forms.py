"""Hostile input on every form field and on the device endpoint: never a 500, and a
refused submission leaves nothing half-saved.

Each form is posted with a valid payload in which one field at a time is
replaced by a hostile value (empty, 10k characters, NUL, emoji, RTL text,
full-width digits, SQL and HTML/JS snippets, negative and huge numbers, bad
dates). Hypothesis adds random text to the phone and ID normalisers and random
JSON to the device endpoint.
"""

import json
from decimal import Decimal

import pytest
from django import forms as djforms
from django.apps import apps
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from center.forms import ServiceItemForm, StationForm
from center.validators import normalize_id_number, normalize_phone, validate_id_number
from center.validators import validate_phone as check_phone
from requests import services as hotline
from requests.forms import CompleteForm, FollowUpForm, OrderForm, ResidentForm
from tests.factories import (
    CommunityFactory,
    ResidentFactory,
    ServiceItemFactory,
    SpecialtyFactory,
    VolunteerFactory,
)
from volunteers.forms import MerchantForm, PostForm, TeamForm, VolunteerForm

HOSTILE = [
    "",
    " ",
    "x" * 10_000,
    "a\x00b",
    "😀" * 30,
    "\u202eevil\u202c",  # right-to-left override
    "１３８１２３４５６７８",  # full-width digits
    "'; DROP TABLE requests_resident; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "-1",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "99999999999999999999999999",
    "2026-02-30",
    "0000-00-00",
    "9999-99-99T99:99",
    "0",
]

WATCHED = [
    "requests.Resident",
    "requests.ResidentPhone",
    "requests.ServiceRequest",
    "requests.FollowUp",
    "volunteers.Volunteer",
    "volunteers.Merchant",
    "volunteers.ServiceTeam",
    "volunteers.Post",
    "center.Station",
    "center.ServiceItem",
    "center.AuditEntry",
]


def _counts():
    return {label: apps.get_model(label).objects.count() for label in WATCHED}


@pytest.fixture
def world(db, station, operator, center_manager):
    community = CommunityFactory()
    station.communities.add(community)
    specialty = SpecialtyFactory()
    item = ServiceItemFactory(specialty=specialty, market_price=Decimal("100"))
    resident = ResidentFactory(community=community)
    order = hotline.order_create(actor=operator, resident=resident, item=item, channel="hotline")
    volunteer = VolunteerFactory(station=station)
    hotline.order_assign(actor=operator, order=order, provider=volunteer)
    hotline.order_take(actor=operator, order=order)
    done = hotline.order_create(
        actor=operator, resident=resident, item=ServiceItemFactory(), channel="hotline"
    )
    hotline.order_assign(actor=operator, order=done, provider=volunteer)
    hotline.order_take(actor=operator, order=done)
    hotline.order_complete(actor=operator, order=done, notes="ok", fee=Decimal("0"))
    return {
        "station": station,
        "community": community,
        "item": item,
        "specialty": specialty,
        "resident": resident,
        "order": order,
        "done": done,
        "volunteer": volunteer,
        "operator": operator,
        "center_manager": center_manager,
    }


# (url name, url kwargs, form class, user, a valid payload)
def _targets(w):
    return {
        "resident": (
            reverse("requests:resident_create"),
            ResidentForm,
            w["operator"],
            {"name": "张三", "phone": "13800001111", "address": "梅湾街1号"},
        ),
        "order": (
            reverse("requests:order_create", args=[w["resident"].pk]),
            OrderForm,
            w["operator"],
            {
                "item": w["item"].pk,
                "kind": "help",
                "channel": "hotline",
                "urgency": "normal",
                "confirm_new": "True",
            },
        ),
        "complete": (
            reverse("requests:order_step", args=[w["order"].pk, "complete"]),
            CompleteForm,
            w["operator"],
            {"notes": "修好了", "fee": "0"},
        ),
        "followup": (
            reverse("requests:followup", args=[w["done"].pk]),
            FollowUpForm,
            w["operator"],
            {"satisfaction": "satisfied", "score": "5"},
        ),
        "volunteer": (
            reverse("volunteers:volunteer_create"),
            VolunteerForm,
            w["center_manager"],
            {
                "name": "李四",
                "mobile": "13700000001",
                "kind": "community",
                "station": w["station"].pk,
            },
        ),
        "merchant": (
            reverse("volunteers:merchant_create"),
            MerchantForm,
            w["center_manager"],
            {
                "name": "维修部",
                "kind": "individual",
                "licence_no": "92330400MA00000001",
                "contact_name": "周",
                "mobile": "13900000001",
                "stations": w["station"].pk,
            },
        ),
        "team": (
            reverse("volunteers:team_create"),
            TeamForm,
            w["center_manager"],
            {"name": "队", "kind": "specialty", "station": w["station"].pk},
        ),
        "post": (
            reverse("volunteers:post_create"),
            PostForm,
            w["center_manager"],
            {
                "station": w["station"].pk,
                "title": "岗",
                "kind": "legal",
                "schedule": "周六",
                "capacity": "2",
            },
        ),
        "station": (
            reverse("center:station_create"),
            StationForm,
            w["center_manager"],
            {"code": "ZX-1", "name": "站", "kind": "point", "address": "路1号"},
        ),
        "item": (
            reverse("center:item_create"),
            ServiceItemForm,
            w["center_manager"],
            {
                "category": w["item"].category_id,
                "code": "X-1",
                "name": "项",
                "market_price": "10",
                "center_price": "5",
                "typical_minutes": "30",
            },
        ),
    }


def _field_names(form_class, user):
    try:
        form = form_class(user=user)
    except TypeError:
        form = form_class()
    return [n for n, f in form.fields.items() if not isinstance(f.widget, djforms.FileInput)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    ["resident", "order", "complete", "followup", "volunteer", "merchant", "team", "post"]
    + ["station", "item"],
)
def test_hostile_values_in_every_field_never_500_nor_half_save(client, world, target):
    url, form_class, user, valid = _targets(world)[target]
    client.force_login(user)
    for field in _field_names(form_class, user):
        for value in HOSTILE:
            before = _counts()
            response = client.post(url, {**valid, field: value})
            assert response.status_code < 500, (target, field, value[:40])
            # Saved: a redirect, or a new provider's activation code page.
            saved = response.status_code == 302 or b'data-testid="activation-codes"' in (
                response.content
            )
            if not saved:
                # Refused: nothing written, not even half of it.
                assert _counts() == before, (target, field, value[:40])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_phone_and_id_normalisers_are_total_and_idempotent(text):
    """Any text: normalising never raises, is idempotent, and what validates is ASCII."""
    from django.core.exceptions import ValidationError

    for normalize, validate in (
        (normalize_phone, check_phone),
        (normalize_id_number, validate_id_number),
    ):
        once = normalize(text)
        assert normalize(once) == once
        try:
            validate(text)
        except ValidationError:
            continue
        assert once.isascii() and once.replace("X", "").isdigit()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.one_of(
        JSON,
        st.fixed_dictionaries({"device_id": JSON, "secret": JSON}),
        st.fixed_dictionaries({"device_id": st.text(max_size=50), "secret": st.text()}),
    )
)
def test_device_endpoint_answers_json_to_anything(client, payload):
    from requests.models import ServiceRequest

    response = client.post(
        "/api/devices/call", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code in (400, 401, 404, 413, 429)
    assert "error" in response.json()
    assert not ServiceRequest.objects.exists()
