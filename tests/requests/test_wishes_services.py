"""Micro-wish services: every transition and its refusals, shares and pledged
totals, the one-winner race on the last share, rollover, overdue contact and
release (issue 11)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from center.models import AuditEntry, Notification
from requests import tasks
from requests.models import MicroWish, WishAdoption
from requests.services import wishes as services
from tests.factories import (
    MicroWishFactory,
    OrganizationFactory,
    ResidentFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers.models import ProviderStatus

S = MicroWish.Status


@pytest.fixture(autouse=True)
def english():
    """The refusals are matched on their English msgids (pages render zh-hans)."""
    with translation.override("en"):
        yield


@pytest.fixture
def wish(station, resident):
    return MicroWishFactory(
        resident=resident, station=station, estimated_cost=Decimal("300.00"), shares=1
    )


@pytest.fixture
def vol(station):
    return VolunteerFactory(station=station, user=UserFactory(role="volunteer"))


def _status(wish) -> str:
    wish.refresh_from_db()
    return wish.status


# --- create, update, review -----------------------------------------------------------------


@pytest.mark.django_db
def test_wish_create_copies_the_place_and_starts_as_a_draft(operator, station, resident):
    wish = services.wish_create(
        actor=operator,
        resident=resident,
        title=" 一台电饭煲 ",
        kind="goods",
        deadline=timezone.localdate() + datetime.timedelta(days=10),
        source="visit",
    )
    assert wish.status == S.DRAFT and wish.title == "一台电饭煲"
    assert wish.community == resident.community and wish.station == station
    assert wish.district.level == "district"


@pytest.mark.django_db
def test_draft_is_edited_and_a_verified_wish_is_not(operator, station, resident):
    wish = MicroWishFactory(resident=resident, station=station, status=S.DRAFT)
    services.wish_update(actor=operator, wish=wish, data={"title": "两床棉被", "shares": 2})
    wish.refresh_from_db()
    assert (wish.title, wish.shares) == ("两床棉被", 2)
    services.wish_verify(actor=operator, wish=wish)
    with pytest.raises(ValidationError, match="draft"):
        services.wish_update(actor=operator, wish=wish, data={"title": "x"})
    wish.refresh_from_db()
    assert wish.title == "两床棉被"


@pytest.mark.django_db
def test_review_steps_in_order_and_refused_out_of_order(operator, station, resident):
    wish = MicroWishFactory(resident=resident, station=station, status=S.DRAFT)
    with pytest.raises(ValidationError):
        services.wish_publish(actor=operator, wish=wish)
    services.wish_verify(actor=operator, wish=wish)
    with pytest.raises(ValidationError):
        services.wish_verify(actor=operator, wish=wish)
    services.wish_publish(actor=operator, wish=wish)
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED and wish.verified_at and wish.published_at
    actions = list(
        AuditEntry.objects.filter(target_id=str(wish.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["requests.wish.verify", "requests.wish.publish"]


@pytest.mark.django_db
def test_publish_refused_past_the_deadline(operator, station, resident):
    wish = MicroWishFactory(
        resident=resident,
        station=station,
        status=S.VERIFIED,
        deadline=timezone.localdate() - datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError, match="deadline"):
        services.wish_publish(actor=operator, wish=wish)
    assert _status(wish) == S.VERIFIED


# --- adoption ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_volunteer_adopts_a_one_share_wish(wish, vol, station_manager, settings):
    before = timezone.now()
    adoption = services.wish_adopt(actor=vol.user, wish=wish, volunteer=vol)
    wish.refresh_from_db()
    assert wish.status == S.ADOPTED and wish.shares_taken == 1
    assert adoption.amount == Decimal("300.00") == wish.pledged_total
    days = settings.LIANXIN["WISH_CONTACT_DAYS"]
    assert (
        before + datetime.timedelta(days=days)
        <= wish.contact_due_at
        <= timezone.now() + datetime.timedelta(days=days)
    )
    # The station's manager is told.
    assert Notification.objects.filter(recipient=station_manager, message="requests.wish.adopted")
    assert AuditEntry.objects.filter(action="requests.wish.adopt", target_id=str(wish.pk)).exists()


@pytest.mark.django_db
def test_sanctioned_volunteer_cannot_adopt(wish, station):
    suspended = VolunteerFactory(
        station=station,
        status=ProviderStatus.SUSPENDED,
        suspended_until=timezone.localdate() + datetime.timedelta(days=20),
        name="受罚者",
    )
    with pytest.raises(ValidationError, match="sanction"):
        services.wish_adopt(actor=None, wish=wish, volunteer=suspended)
    removed = VolunteerFactory(station=station, status=ProviderStatus.REMOVED)
    with pytest.raises(ValidationError):
        services.wish_adopt(actor=None, wish=wish, volunteer=removed)
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED and wish.shares_taken == 0
    assert not WishAdoption.objects.exists()


@pytest.mark.django_db
def test_adoption_refused_unless_published(station, resident, vol):
    for status in (S.DRAFT, S.VERIFIED, S.WITHDRAWN, S.ADOPTED):
        wish = MicroWishFactory(resident=resident, station=station, status=status)
        with pytest.raises(ValidationError):
            services.wish_adopt(actor=None, wish=wish, volunteer=vol)
    assert not WishAdoption.objects.exists()


@pytest.mark.django_db
def test_shares_add_up_with_pledges_until_the_last_one(station, resident, station_manager):
    wish = MicroWishFactory(
        resident=resident, station=station, estimated_cost=Decimal("1000.00"), shares=4
    )
    a, b = VolunteerFactory(station=station), VolunteerFactory(station=station)
    services.wish_adopt(actor=None, wish=wish, volunteer=a, shares=2)
    wish.refresh_from_db()
    assert (wish.status, wish.shares_taken, wish.pledged_total) == (
        S.PUBLISHED,
        2,
        Decimal("500.00"),
    )
    # The same volunteer twice: refused.
    with pytest.raises(ValidationError, match="already"):
        services.wish_adopt(actor=None, wish=wish, volunteer=a)
    # More shares than are left: refused, nothing changes.
    with pytest.raises(ValidationError) as exc:
        services.wish_adopt(actor=None, wish=wish, volunteer=b, shares=3)
    assert "2" in exc.value.messages[0]
    # An organization (through a staff member) pledges its own amount.
    services.wish_adopt(
        actor=station_manager,
        wish=wish,
        organization=OrganizationFactory(),
        shares=1,
        amount=Decimal("300"),
    )
    services.wish_adopt(actor=None, wish=wish, volunteer=b, shares=1)
    wish.refresh_from_db()
    assert wish.status == S.ADOPTED and wish.shares_taken == 4
    assert wish.pledged_total == Decimal("1050.00")  # 500 + 300 + 250
    assert sum(a.amount for a in wish.adoptions.all()) == wish.pledged_total
    with pytest.raises(ValidationError):
        services.wish_adopt(actor=None, wish=wish, volunteer=VolunteerFactory(station=station))


@pytest.mark.django_db
def test_organization_adopts_only_through_staff(wish, vol):
    with pytest.raises(ValidationError, match="staff"):
        services.wish_adopt(actor=vol.user, wish=wish, organization=OrganizationFactory())
    with pytest.raises(ValidationError):
        services.wish_adopt(
            actor=None, wish=wish, volunteer=vol, organization=OrganizationFactory()
        )
    assert not WishAdoption.objects.exists()


@pytest.mark.django_db
def test_remote_adoption_and_deliverer(wish, vol, station, operator):
    far = VolunteerFactory(station=station)
    with pytest.raises(ValidationError, match="remote"):
        services.wish_adopt(actor=None, wish=wish, volunteer=far, deliverer=vol)
    adoption = services.wish_adopt(actor=None, wish=wish, volunteer=far, is_remote=True)
    assert adoption.deliverer is None
    services.wish_deliverer_set(actor=operator, adoption=adoption, deliverer=vol)
    adoption.refresh_from_db()
    assert adoption.deliverer == vol
    assert Notification.objects.filter(recipient=vol.user, message="requests.wish.deliver")
    # The deliverer may say the family was contacted.
    services.wish_contact(actor=vol.user, wish=wish, volunteer=vol)
    assert _status(wish) == S.CONTACTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adoptions_of_the_last_share_have_one_winner(station, resident):
    wish = MicroWishFactory(resident=resident, station=station, shares=3)
    first = VolunteerFactory(station=station)
    services.wish_adopt(actor=None, wish=wish, volunteer=first, shares=2)
    racers = [VolunteerFactory(station=station) for _ in range(6)]
    barrier = threading.Barrier(len(racers))
    outcomes = []

    def adopt(volunteer):
        barrier.wait()
        try:
            services.wish_adopt(actor=None, wish=wish, volunteer=volunteer)
            outcomes.append("won")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=adopt, args=(v,)) for v in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    wish.refresh_from_db()
    assert wish.status == S.ADOPTED and wish.shares_taken == 3
    assert WishAdoption.objects.filter(wish=wish).count() == 2


# --- after adoption ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_contact_fulfil_confirm(wish, vol, station, station_manager):
    services.wish_adopt(actor=vol.user, wish=wish, volunteer=vol)
    stranger = VolunteerFactory(station=station)
    with pytest.raises(ValidationError, match="adopter"):
        services.wish_contact(actor=None, wish=wish, volunteer=stranger)
    with pytest.raises(ValidationError):  # not contacted yet
        services.wish_fulfil(actor=vol.user, wish=wish, volunteer=vol, note="送到了")
    services.wish_contact(actor=vol.user, wish=wish, volunteer=vol)
    with pytest.raises(ValidationError):
        services.wish_contact(actor=vol.user, wish=wish, volunteer=vol)
    with pytest.raises(ValidationError) as exc:
        services.wish_fulfil(actor=vol.user, wish=wish, volunteer=vol, note="  ")
    assert "note" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.wish_confirm(actor=station_manager, wish=wish)
    services.wish_fulfil(
        actor=vol.user, wish=wish, volunteer=vol, note="买了电饭煲送到家", spent=Decimal("280")
    )
    wish.refresh_from_db()
    assert wish.status == S.FULFILLED and wish.spent_total == Decimal("280")
    assert wish.fulfilment_note == "买了电饭煲送到家" and wish.fulfilled_at
    assert Notification.objects.filter(recipient=station_manager, message="requests.wish.fulfilled")
    services.wish_confirm(actor=station_manager, wish=wish)
    assert _status(wish) == S.CONFIRMED
    assert Notification.objects.filter(recipient=vol.user, message="requests.wish.confirmed")
    with pytest.raises(ValidationError):
        services.wish_withdraw(actor=station_manager, wish=wish, reason="太晚")
    steps = set(
        AuditEntry.objects.filter(
            target_id=str(wish.pk), action__startswith="requests.wish."
        ).values_list("action", flat=True)
    )
    assert {"requests.wish.contact", "requests.wish.fulfil", "requests.wish.confirm"} <= steps


@pytest.mark.django_db
def test_staff_record_contact_for_an_organization_but_no_one_else(wish, operator, outsider):
    services.wish_adopt(actor=operator, wish=wish, organization=OrganizationFactory())
    with pytest.raises(ValidationError):
        services.wish_contact(actor=outsider, wish=wish)
    services.wish_contact(actor=operator, wish=wish)
    assert _status(wish) == S.CONTACTED


@pytest.mark.django_db
def test_withdraw_needs_a_reason_and_releases_adoptions(wish, vol, station_manager):
    services.wish_adopt(actor=vol.user, wish=wish, volunteer=vol)
    with pytest.raises(ValidationError) as exc:
        services.wish_withdraw(actor=station_manager, wish=wish, reason=" ")
    assert "reason" in exc.value.error_dict
    assert _status(wish) == S.ADOPTED
    services.wish_withdraw(actor=station_manager, wish=wish, reason="家人已经买了")
    wish.refresh_from_db()
    assert wish.status == S.WITHDRAWN and wish.withdrawn_reason == "家人已经买了"
    assert not wish.adoptions.filter(status="active").exists()
    assert Notification.objects.filter(recipient=vol.user, message="requests.wish.withdrawn")


# --- overdue contact and release ---------------------------------------------------------------


@pytest.mark.django_db
def test_release_only_when_contact_is_overdue_and_round_trip(wish, vol, station, station_manager):
    services.wish_adopt(actor=vol.user, wish=wish, volunteer=vol)
    with pytest.raises(ValidationError, match="until"):
        services.wish_release(actor=station_manager, wish=wish)
    MicroWish.objects.filter(pk=wish.pk).update(
        contact_due_at=timezone.now() - datetime.timedelta(hours=1)
    )
    services.wish_release(actor=station_manager, wish=wish)
    wish.refresh_from_db()
    assert wish.status == S.PUBLISHED
    assert (wish.shares_taken, wish.pledged_total, wish.contact_due_at) == (0, 0, None)
    assert wish.adoptions.get().status == WishAdoption.Status.RELEASED
    assert Notification.objects.filter(recipient=vol.user, message="requests.wish.released")
    # Back on the wall: someone else (or the same volunteer) adopts again.
    services.wish_adopt(actor=vol.user, wish=wish, volunteer=vol)
    wish.refresh_from_db()
    assert wish.status == S.ADOPTED and wish.shares_taken == 1
    services.wish_contact(actor=vol.user, wish=wish, volunteer=vol)
    MicroWish.objects.filter(pk=wish.pk).update(
        contact_due_at=timezone.now() - datetime.timedelta(hours=1)
    )
    with pytest.raises(ValidationError):  # contacted: nothing to release
        services.wish_release(actor=station_manager, wish=wish)
    assert _status(wish) == S.CONTACTED


# --- rollover ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rollover_gives_past_deadline_wishes_a_new_round_with_priority(station, resident, settings):
    today = timezone.localdate()
    past = MicroWishFactory(
        resident=resident, station=station, deadline=today - datetime.timedelta(days=1)
    )
    current = MicroWishFactory(resident=resident, station=station, deadline=today)
    adopted = MicroWishFactory(
        resident=resident,
        station=station,
        status=S.ADOPTED,
        deadline=today - datetime.timedelta(days=3),
    )
    assert tasks.roll_over_wishes() == 1
    past.refresh_from_db()
    assert past.round == 2 and past.priority
    assert past.deadline == today + datetime.timedelta(days=settings.LIANXIN["WISH_ROUND_DAYS"])
    current.refresh_from_db()
    adopted.refresh_from_db()
    assert (current.round, current.priority, adopted.round) == (1, False, 1)
    # Safe to run twice.
    assert services.wishes_roll_over() == 0
    assert AuditEntry.objects.filter(action="requests.wish.rollover").count() == 1


@pytest.mark.django_db
def test_wish_create_refuses_a_resident_without_community(operator):
    with pytest.raises(ValidationError, match="community"):
        services.wish_create(
            actor=operator,
            resident=ResidentFactory(community=None),
            title="x",
            kind="goods",
            deadline=timezone.localdate(),
            source="visit",
        )
    assert not MicroWish.objects.exists()


# --- what the public wall may show; amounts the columns hold -----------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("联系电话13912345678", True),
        ("电话 139 1234 5678", True),
        ("+86 139-1234-5678", True),
        ("买2 13912345678", True),
        ("座机0573-82345678", True),
        ("座机０５７３－８２３４５６７８", True),  # full-width
        ("身份证330402199001011234", True),
        ("身份证 33040219900101123x", True),
        ("老人想要一台电饭煲，预算1399元，需要2台", False),
        ("2026-11-27 上午送到", False),
        ("", False),
    ],
)
def test_has_personal_number(text, found):
    assert services.has_personal_number(text) is found


@pytest.mark.django_db
def test_a_phone_or_id_number_never_reaches_the_wall_text(operator, station, resident):
    def create(**kw):
        return services.wish_create(
            actor=operator,
            resident=resident,
            kind="goods",
            deadline=timezone.localdate() + datetime.timedelta(days=10),
            source="visit",
            **kw,
        )

    with pytest.raises(ValidationError, match="phone or ID number") as exc:
        create(title="一台电饭煲", description="联系女儿13912345678")
    assert set(exc.value.error_dict) == {"description"}
    with pytest.raises(ValidationError) as exc:
        create(title="张某330402199001011234的轮椅")
    assert set(exc.value.error_dict) == {"title"}
    assert not MicroWish.objects.exists()

    wish = create(title="一台电饭煲", description="做饭方便")
    with pytest.raises(ValidationError) as exc:
        services.wish_update(actor=operator, wish=wish, data={"description": "座机 0573-8234 5678"})
    assert set(exc.value.error_dict) == {"description"}
    wish.refresh_from_db()
    assert wish.description == "做饭方便"


@pytest.mark.django_db
def test_publish_refuses_a_wish_holding_a_number(operator, station, resident):
    """A wish written before the rule (or by any other path) is checked again
    when it goes on the wall."""
    wish = MicroWishFactory(
        resident=resident,
        station=station,
        status=S.VERIFIED,
        description="有事请打13912345678",
    )
    with pytest.raises(ValidationError, match="phone or ID number"):
        services.wish_publish(actor=operator, wish=wish)
    assert _status(wish) == S.VERIFIED


@pytest.mark.django_db
def test_pledges_cannot_overflow_the_pledged_total(operator, station, resident, vol):
    """numeric(10, 2): a pledge making the total pass ¥99,999,999.99 was a
    database error (a 500), it is now a refusal on the amount."""
    wish = MicroWishFactory(resident=resident, station=station, shares=2)
    services.wish_adopt(actor=None, wish=wish, volunteer=vol)  # ¥100.00
    with pytest.raises(ValidationError, match="cannot exceed") as exc:
        services.wish_adopt(
            actor=operator,
            wish=wish,
            organization=OrganizationFactory(),
            amount=Decimal("99999999.99"),
        )
    assert set(exc.value.error_dict) == {"amount"}
    with pytest.raises(ValidationError, match="cannot exceed"):
        services.wish_adopt(
            actor=operator, wish=wish, organization=OrganizationFactory(), amount=Decimal("1e40")
        )
    wish.refresh_from_db()
    assert (wish.shares_taken, wish.pledged_total) == (1, Decimal("100.00"))
    services.wish_adopt(
        actor=operator, wish=wish, organization=OrganizationFactory(), amount=Decimal("50000")
    )
    wish.refresh_from_db()
    assert wish.pledged_total == Decimal("50100.00") and wish.status == S.ADOPTED


@pytest.mark.django_db
def test_spent_cannot_overflow_its_column(operator, wish, vol):
    services.wish_adopt(actor=None, wish=wish, volunteer=vol)
    services.wish_contact(actor=operator, wish=wish)
    with pytest.raises(ValidationError, match="cannot exceed"):
        services.wish_fulfil(actor=operator, wish=wish, note="送到了", spent=Decimal("1e8"))
    assert _status(wish) == S.CONTACTED
