"""Staff pages: scoping, refusals, masking and reveal log, pinned query counts."""

import pytest
from django.urls import reverse

from center.models import AuditEntry
from tests.factories import (
    InServiceVolunteerFactory,
    MerchantFactory,
    OrganizationFactory,
    PostFactory,
    StationFactory,
    VolunteerFactory,
)
from volunteers import services
from volunteers.models import Complaint, Volunteer

pytestmark = pytest.mark.django_db

STAFF_LISTS = [
    "volunteers:volunteer_list",
    "volunteers:merchant_list",
    "volunteers:team_list",
    "volunteers:complaint_list",
    "volunteers:post_list",
]


@pytest.mark.parametrize(
    "url_name",
    [
        *STAFF_LISTS,
        "volunteers:hours_pending",
        "volunteers:organization_list",
        "volunteers:volunteer_create",
        "volunteers:merchant_create",
    ],
)
def test_outsider_and_volunteer_are_refused(login, outsider, volunteer_user, url_name):
    for user in (outsider, volunteer_user):
        assert login(user).get(reverse(url_name)).status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("volunteers:volunteer_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_station_manager_sees_only_own_stations_providers(
    login, station_manager, station, other_station
):
    mine = VolunteerFactory(station=station, name="本站志愿者")
    theirs = VolunteerFactory(station=other_station, name="外站志愿者")
    my_merchant = MerchantFactory(stations=[station], name="本站商户")
    MerchantFactory(stations=[other_station], name="外站商户")
    client = login(station_manager)
    assert [
        v.name for v in client.get(reverse("volunteers:volunteer_list")).context["object_list"]
    ] == [mine.name]
    assert [
        m.name for m in client.get(reverse("volunteers:merchant_list")).context["object_list"]
    ] == [my_merchant.name]
    assert client.get(reverse("volunteers:volunteer_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("volunteers:volunteer_update", args=[theirs.pk])).status_code == 404
    services.complaint_record(actor=None, provider=theirs, description="外站投诉")
    services.complaint_record(actor=None, provider=mine, description="本站投诉")
    complaints = client.get(reverse("volunteers:complaint_list")).context["object_list"]
    assert [c.description for c in complaints] == ["本站投诉"]
    foreign = Complaint.objects.get(description="外站投诉")
    assert (
        client.post(
            reverse("volunteers:complaint_rule", args=[foreign.pk]), {"valid": "1", "reason": "x"}
        ).status_code
        == 404
    )
    foreign.refresh_from_db()
    assert foreign.status == Complaint.Status.PENDING


def test_lists_show_masked_mobiles(login, operator):
    VolunteerFactory(mobile="13812345678")
    body = login(operator).get(reverse("volunteers:volunteer_list")).content.decode()
    assert "138****5678" in body and "13812345678" not in body


def test_reveal_is_logged_and_limited_by_role(login, operator, station_manager, station):
    volunteer = VolunteerFactory(
        station=station, mobile="13812345678", id_number="11010519491231002X"
    )
    detail = (
        login(operator)
        .get(reverse("volunteers:volunteer_detail", args=[volunteer.pk]))
        .content.decode()
    )
    assert "110105********002X" in detail and "11010519491231002X" not in detail
    client = login(operator)
    assert (
        client.post(reverse("volunteers:volunteer_reveal", args=[volunteer.pk, "mobile"]))
        .content.decode()
        .count("13812345678")
        == 1
    )
    assert (
        client.post(
            reverse("volunteers:volunteer_reveal", args=[volunteer.pk, "id_number"])
        ).status_code
        == 403
    )
    client = login(station_manager)
    response = client.post(reverse("volunteers:volunteer_reveal", args=[volunteer.pk, "id_number"]))
    assert "11010519491231002X" in response.content.decode()
    logged = AuditEntry.objects.filter(action="center.pii.revealed", target_id=str(volunteer.pk))
    assert sorted((e.actor.username, e.data["field"]) for e in logged) == [
        ("op", "mobile"),
        ("sm", "id_number"),
    ]
    assert (
        client.post(
            reverse("volunteers:volunteer_reveal", args=[volunteer.pk, "password"])
        ).status_code
        == 400
    )
    assert (
        client.get(
            reverse("volunteers:volunteer_reveal", args=[volunteer.pk, "mobile"])
        ).status_code
        == 405
    )


def test_outsider_cannot_reveal(login, outsider):
    volunteer = VolunteerFactory()
    assert (
        login(outsider)
        .post(reverse("volunteers:volunteer_reveal", args=[volunteer.pk, "mobile"]))
        .status_code
        == 403
    )
    assert not AuditEntry.objects.filter(action="center.pii.revealed").exists()


def grow(station, n):
    for _ in range(n):
        v = VolunteerFactory(station=station)
        MerchantFactory(stations=[station])
        services.complaint_record(actor=None, provider=v, description="迟到")
        post = PostFactory(station=station)
        services.post_claim(
            actor=None, post=post, volunteer=InServiceVolunteerFactory(station=station)
        )
        services.team_create(
            actor=None,
            data={"name": f"队{v.pk}", "kind": "professional", "station": station, "leader": v},
        )


@pytest.mark.parametrize(
    ("url_name", "queries"),
    [
        # session, user, managed station ids, capped count, page, filter's station choices, specialty choices
        ("volunteers:volunteer_list", 7),
        # session, user, station ids, capped count, page (+station count), station choices
        ("volunteers:merchant_list", 6),
        # session, user, station ids, merchants serving them, capped count,
        # the page's ids, its rows (+provider, station, recorded by)
        ("volunteers:complaint_list", 7),
        # session, user, station ids, capped count, page (+claim counts), station choices
        ("volunteers:post_list", 6),
        # session, user, station ids, capped count, page (+member counts), station choices, specialty choices
        ("volunteers:team_list", 7),
    ],
)
def test_list_query_counts_stay_constant(
    login, station_manager, station, django_assert_num_queries, url_name, queries
):
    client = login(station_manager)
    grow(station, 2)
    with django_assert_num_queries(queries):
        assert client.get(reverse(url_name)).status_code == 200
    grow(station, 12)
    with django_assert_num_queries(queries):
        assert client.get(reverse(url_name)).status_code == 200


def test_volunteer_detail_query_count_is_constant(
    login, center_manager, station, django_assert_num_queries
):
    volunteer = VolunteerFactory(station=station)
    client = login(center_manager)
    url = reverse("volunteers:volunteer_detail", args=[volunteer.pk])
    client.get(url)  # warm the session

    def grow_history(n):
        for _ in range(n):
            complaint = services.complaint_record(actor=None, provider=volunteer, description="x")
            services.complaint_rule(
                actor=center_manager, complaint=complaint, valid=True, reason="属实"
            )

    grow_history(1)
    # session, user, volunteer, specialties, items, hours, complaints, sanctions,
    # posts, certificates, teams, 2 station selects (hours and certificate forms)
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200
    grow_history(4)
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200


def test_volunteer_filters(login, operator, station):
    a = VolunteerFactory(
        station=station, name="王小明", mobile="13900001111", on_duty=True, verified_hours=350
    )
    VolunteerFactory(station=station, name="李四", on_duty=False, verified_hours=5)
    client = login(operator)
    for params in (
        {"q": "王"},
        {"q": "13900001111"},
        {"q": a.volunteer_no},
        {"on_duty": "true"},
        {"star": "2"},
    ):
        names = [
            v.name
            for v in client.get(reverse("volunteers:volunteer_list"), params).context["object_list"]
        ]
        assert names == ["王小明"], params


def test_station_manager_creates_a_volunteer_in_own_station_only(
    login, station_manager, station, other_station
):
    client = login(station_manager)
    data = {
        "name": "赵六",
        "mobile": "13700001234",
        "id_number": "11010519491231002X",
        "kind": "community",
        "station": other_station.pk,
        "is_party_member": "on",
    }
    response = client.post(reverse("volunteers:volunteer_create"), data)
    assert response.status_code == 200 and response.context["form"].has_error("station")
    assert not Volunteer.objects.exists()
    data["station"] = station.pk
    response = client.post(reverse("volunteers:volunteer_create"), data)
    volunteer = Volunteer.objects.get()
    # The activation code page, once, then on to the volunteer.
    assert f'href="{volunteer.get_absolute_url()}"' in response.content.decode()
    assert volunteer.volunteer_no == f"JX{volunteer.pk:09d}"


def test_bad_id_number_on_the_form_is_refused_in_chinese(login, station_manager, station):
    response = login(station_manager).post(
        reverse("volunteers:volunteer_create"),
        {
            "name": "赵六",
            "mobile": "13700001234",
            "id_number": "110105194912310021",
            "kind": "community",
            "station": station.pk,
        },
    )
    assert "校验码" in response.content.decode()
    assert not Volunteer.objects.exists()


def test_editing_keeps_the_id_number_when_left_empty(login, station_manager, station):
    volunteer = VolunteerFactory(
        station=station, id_number="11010519491231002X", mobile="13700001234"
    )
    client = login(station_manager)
    page = client.get(reverse("volunteers:volunteer_update", args=[volunteer.pk])).content.decode()
    assert "11010519491231002X" not in page
    client.post(
        reverse("volunteers:volunteer_update", args=[volunteer.pk]),
        {
            "name": "新名字",
            "mobile": "13700001234",
            "id_number": "",
            "kind": "community",
            "station": station.pk,
        },
    )
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.id_number) == ("新名字", "11010519491231002X")


def test_operator_records_a_complaint_but_cannot_rule(login, operator, station):
    volunteer = VolunteerFactory(station=station)
    client = login(operator)
    response = client.post(
        reverse("volunteers:complaint_create", args=["volunteer", volunteer.pk]),
        {"description": "乱收费"},
    )
    complaint = Complaint.objects.get()
    assert response["Location"] == complaint.get_absolute_url()
    assert (
        client.post(
            reverse("volunteers:complaint_rule", args=[complaint.pk]), {"valid": "1", "reason": "x"}
        ).status_code
        == 403
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.PENDING


def test_only_center_managers_revoke(login, station_manager, center_manager, station):
    volunteer = VolunteerFactory(station=station)
    complaint = services.complaint_record(actor=None, provider=volunteer, description="x")
    services.complaint_rule(actor=center_manager, complaint=complaint, valid=True, reason="属实")
    sanction = complaint.sanction
    assert (
        login(station_manager)
        .post(reverse("volunteers:sanction_revoke", args=[sanction.pk]), {"reason": "x"})
        .status_code
        == 403
    )
    login(center_manager).post(
        reverse("volunteers:sanction_revoke", args=[sanction.pk]), {"reason": "申诉成立"}
    )
    sanction.refresh_from_db()
    assert sanction.status == "revoked"


def test_pages_in_another_district_station_stay_hidden(login, station_manager):
    far = StationFactory()
    VolunteerFactory(station=far, name="远方")
    names = [
        v.name
        for v in login(station_manager)
        .get(reverse("volunteers:volunteer_list"))
        .context["object_list"]
    ]
    assert "远方" not in names


@pytest.mark.parametrize(
    ("url_name", "queries"),
    [
        # session, user, capped count, page (+member counts), kind filter has no query
        ("volunteers:organization_list", 4),
        # session, user, station ids, capped count, page
        ("volunteers:hours_pending", 5),
    ],
)
def test_organization_and_pending_hours_query_counts_stay_constant(
    login, center_manager, station_manager, station, django_assert_num_queries, url_name, queries
):
    client = login(center_manager if url_name.endswith("organization_list") else station_manager)

    def grow(n):
        for _ in range(n):
            org = OrganizationFactory()
            v = VolunteerFactory(station=station, kind="in_service", organization=org)
            services.hours_record(
                actor=None,
                volunteer=v,
                date=v.created_at.date(),
                hours=2,
                source="manual",
                description="值班",
                reason="补录",
                station=station,
                verified=False,
            )

    grow(2)
    with django_assert_num_queries(queries):
        assert client.get(reverse(url_name)).status_code == 200
    grow(10)
    with django_assert_num_queries(queries):
        assert client.get(reverse(url_name)).status_code == 200
