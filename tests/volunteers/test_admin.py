"""The back office: every save and delete goes through a service (audited),
the volunteer list stays fast and never shows ID numbers."""

import pytest
from django.urls import reverse

from center.models import AuditEntry
from tests.factories import (
    InServiceVolunteerFactory,
    OrganizationFactory,
    PostFactory,
    SpecialtyFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers import services
from volunteers.models import Organization, Post, PostClaim, ServiceTeam

pytestmark = pytest.mark.django_db


def _audit(action: str, target) -> AuditEntry:
    return AuditEntry.objects.get(
        action=action, target_type=target._meta.label_lower, target_id=str(target.pk)
    )


def test_adding_an_organization_in_the_admin_is_audited(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:volunteers_organization_add"),
        {"name": "嘉兴市税务局", "kind": "government", "contact_name": "", "contact_phone": ""},
    )
    assert response.status_code == 302
    org = Organization.objects.get()
    entry = _audit("volunteers.organization.created", org)
    assert entry.actor == admin_user and entry.data == {"name": "嘉兴市税务局"}


def test_changing_an_organization_in_the_admin_is_audited_with_the_change(admin_client, admin_user):
    org = OrganizationFactory(name="嘉兴市税务局", contact_name="王")
    response = admin_client.post(
        reverse("admin:volunteers_organization_change", args=[org.pk]),
        {"name": "嘉兴市税务局", "kind": org.kind, "contact_name": "李", "contact_phone": ""},
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.contact_name == "李"
    entry = _audit("volunteers.organization.updated", org)
    assert entry.actor == admin_user and entry.data == {"contact_name": "李"}


def test_the_admin_refuses_an_organization_name_taken_and_audits_nothing(admin_client):
    OrganizationFactory(name="嘉兴市税务局")
    response = admin_client.post(
        reverse("admin:volunteers_organization_add"),
        {"name": "嘉兴市税务局", "kind": "company", "contact_name": "", "contact_phone": ""},
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert Organization.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="volunteers.organization").exists()


def test_deleting_an_organization_in_the_admin_is_audited(admin_client, admin_user):
    org = OrganizationFactory()
    response = admin_client.post(
        reverse("admin:volunteers_organization_delete", args=[org.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and not Organization.objects.exists()
    entry = AuditEntry.objects.get(action="volunteers.organization.deleted")
    assert entry.actor == admin_user and entry.target_id == str(org.pk)


def test_an_organization_with_members_is_not_deleted(admin_client):
    member = InServiceVolunteerFactory()
    response = admin_client.post(
        reverse("admin:volunteers_organization_delete", args=[member.organization_id]),
        {"post": "yes"},
    )
    assert response.status_code == 200  # Django's "cannot delete: protected" page
    assert Organization.objects.exists()
    assert not AuditEntry.objects.filter(action="volunteers.organization.deleted").exists()


def _post_form(station, **changes) -> dict:
    data = {
        "station": station.pk,
        "title": "社区法律咨询",
        "kind": "legal",
        "schedule": "每周六 09:00–11:00",
        "description": "",
        "capacity": 2,
        "is_open": "on",
    }
    return {**data, **changes}


def test_adding_a_post_in_the_admin_is_audited(admin_client, admin_user, station):
    response = admin_client.post(reverse("admin:volunteers_post_add"), _post_form(station))
    assert response.status_code == 302
    post = Post.objects.get()
    entry = _audit("volunteers.post.created", post)
    assert entry.actor == admin_user and entry.data == {"title": "社区法律咨询"}


def test_changing_a_post_in_the_admin_is_audited_with_the_change(admin_client, admin_user, station):
    post = PostFactory(station=station, title="社区法律咨询", capacity=2)
    response = admin_client.post(
        reverse("admin:volunteers_post_change", args=[post.pk]),
        _post_form(station, schedule=post.schedule, capacity=5, is_open=""),
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.capacity == 5 and not post.is_open
    entry = _audit("volunteers.post.updated", post)
    assert entry.actor == admin_user and entry.data == {"capacity": "5", "is_open": "False"}


def test_deleting_posts_in_bulk_in_the_admin_audits_each_post(admin_client, admin_user, station):
    posts = [PostFactory(station=station), PostFactory(station=station)]
    response = admin_client.post(
        reverse("admin:volunteers_post_changelist"),
        {"action": "delete_selected", "_selected_action": [p.pk for p in posts], "post": "yes"},
    )
    assert response.status_code == 302 and not Post.objects.exists()
    deleted = AuditEntry.objects.filter(action="volunteers.post.deleted", actor=admin_user)
    assert sorted(int(e.target_id) for e in deleted) == sorted(p.pk for p in posts)


def test_a_claimed_post_is_not_deleted_in_the_admin(admin_client, station):
    post = PostFactory(station=station)
    services.post_claim(actor=None, post=post, volunteer=InServiceVolunteerFactory(station=station))
    # Claims are a read-only log in the back office: deleting them is not allowed.
    url = reverse("admin:volunteers_post_delete", args=[post.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Post.objects.exists() and PostClaim.objects.exists()
    assert not AuditEntry.objects.filter(action="volunteers.post.deleted").exists()


def test_a_team_saved_in_the_admin_keeps_its_leader_among_its_members(
    admin_client, admin_user, station
):
    leader, member = VolunteerFactory(station=station), VolunteerFactory(station=station)
    response = admin_client.post(
        reverse("admin:volunteers_serviceteam_add"),
        {
            "name": "建设水电队",
            "kind": "specialty",
            "specialty": SpecialtyFactory().pk,
            "station": station.pk,
            "leader": leader.pk,
            "members": [member.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    team = ServiceTeam.objects.get()
    assert set(team.members.all()) == {leader, member}
    assert _audit("volunteers.team.created", team).actor == admin_user


def test_volunteers_and_merchants_cannot_be_deleted_in_the_admin(admin_client, station):
    volunteer = VolunteerFactory(station=station, user=UserFactory(role="volunteer"))
    url = reverse("admin:volunteers_volunteer_delete", args=[volunteer.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    changelist = admin_client.get(reverse("admin:volunteers_merchant_changelist"))
    assert "delete_selected" not in changelist.content.decode()


def test_volunteer_admin_changelist_is_constant_and_never_shows_id_numbers(
    client, center_manager, station, django_assert_num_queries
):
    client.force_login(center_manager)
    url = reverse("admin:volunteers_volunteer_changelist")
    VolunteerFactory(station=station, id_number="11010519491231002X")
    client.get(url)
    with django_assert_num_queries(4) as small:  # session, user, capped count, page
        body = client.get(url).content.decode()
    assert "11010519491231002X" not in body
    VolunteerFactory.create_batch(20, station=station)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(url)
    change = client.get(
        reverse("admin:volunteers_volunteer_change", args=[station.volunteers.first().pk])
    ).content.decode()
    assert "11010519491231002X" not in change
