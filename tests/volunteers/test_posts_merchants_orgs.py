import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    InServiceVolunteerFactory,
    MerchantFactory,
    OrganizationFactory,
    PostFactory,
    ServiceItemFactory,
    UserFactory,
    VolunteerFactory,
)
from volunteers import services
from volunteers.models import HoursEntry, MerchantOffer, PostClaim


@pytest.mark.django_db
def test_post_capacity_is_respected_and_withdraw_frees_a_place(station):
    post = PostFactory(station=station, capacity=1)
    a, b = InServiceVolunteerFactory(station=station), InServiceVolunteerFactory(station=station)
    claim = services.post_claim(actor=None, post=post, volunteer=a)
    with pytest.raises(ValidationError, match="1"):
        services.post_claim(actor=None, post=post, volunteer=b)
    with pytest.raises(ValidationError):
        services.post_claim(actor=None, post=post, volunteer=a)
    services.post_withdraw(actor=None, claim=claim)
    services.post_claim(actor=None, post=post, volunteer=b)
    assert PostClaim.objects.exclude(status="withdrawn").get().volunteer == b


@pytest.mark.django_db
def test_only_in_service_members_claim_posts(station):
    with pytest.raises(ValidationError):
        services.post_claim(
            actor=None,
            post=PostFactory(station=station),
            volunteer=VolunteerFactory(station=station),
        )
    assert not PostClaim.objects.exists()


@pytest.mark.django_db
def test_station_sees_who_reported_and_who_did_not(login, station_manager, station):
    post = PostFactory(station=station, capacity=3)
    reported = services.post_claim(
        actor=None, post=post, volunteer=InServiceVolunteerFactory(station=station, name="已报到")
    )
    services.post_claim(
        actor=None, post=post, volunteer=InServiceVolunteerFactory(station=station, name="未报到")
    )
    client = login(station_manager)
    client.post(reverse("volunteers:post_report", args=[reported.pk]))
    reported.refresh_from_db()
    assert reported.status == PostClaim.Status.REPORTED and reported.reported_at
    page = client.get(reverse("volunteers:post_detail", args=[post.pk])).content.decode()
    assert "已报到" in page and "未报到" in page and "尚未报到" in page
    post_row = client.get(reverse("volunteers:post_list")).context["object_list"][0]
    assert (post_row.taken, post_row.reported) == (2, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_for_the_last_place_have_one_winner(station):
    post = PostFactory(station=station, capacity=1)
    members = [InServiceVolunteerFactory(station=station) for _ in range(6)]
    barrier = threading.Barrier(len(members))
    outcomes = []

    def claim(volunteer):
        barrier.wait()
        try:
            services.post_claim(actor=None, post=post, volunteer=volunteer)
            outcomes.append("won")
        except ValidationError:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["full"] * 5 + ["won"]
    assert PostClaim.objects.count() == 1


@pytest.mark.django_db
def test_merchant_price_never_above_the_center_price(center_manager):
    merchant = MerchantFactory()
    item = ServiceItemFactory(market_price=Decimal("100"), center_price=Decimal("60"))
    with pytest.raises(ValidationError) as exc:
        services.merchant_offer_set(
            actor=center_manager, merchant=merchant, item=item, price=Decimal("60.01")
        )
    assert "60" in exc.value.messages[0]
    assert not MerchantOffer.objects.exists()
    services.merchant_offer_set(
        actor=center_manager, merchant=merchant, item=item, price=Decimal("60")
    )
    services.merchant_offer_set(
        actor=center_manager, merchant=merchant, item=item, price=Decimal("55")
    )
    assert MerchantOffer.objects.get().price == Decimal("55")


@pytest.mark.django_db
def test_merchant_offer_form_shows_the_error(login, station_manager, station):
    merchant = MerchantFactory(stations=[station])
    item = ServiceItemFactory(market_price=Decimal("100"), center_price=Decimal("60"))
    response = login(station_manager).post(
        reverse("volunteers:merchant_offer_set", args=[merchant.pk]),
        {"item": item.pk, "price": "80"},
        follow=True,
    )
    assert "¥60" in response.content.decode()
    assert not MerchantOffer.objects.exists()


@pytest.mark.django_db
def test_quarterly_export_for_an_employer(login, center_manager, station_manager, station):
    org = OrganizationFactory(name="嘉兴市司法局")
    member = InServiceVolunteerFactory(station=station, organization=org, name="钱律师")
    in_q = datetime.date(2026, 8, 15)
    for date, hours, source, ref in [
        (in_q, "2", HoursEntry.Source.ORDER, "o1"),
        (in_q, "3", HoursEntry.Source.POST_DUTY, "p1"),
        (datetime.date(2026, 5, 1), "9", HoursEntry.Source.ORDER, "o0"),  # previous quarter
    ]:
        services.hours_record(
            actor=None,
            volunteer=member,
            date=date,
            hours=Decimal(hours),
            source=source,
            description="法律咨询",
            station=station,
            source_ref=ref,
        )
    post = PostFactory(station=station, title="社区法律咨询")
    services.post_claim(actor=None, post=post, volunteer=member)
    url = reverse("volunteers:organization_export", args=[org.pk, 2026, 3])
    assert login(station_manager).get(url).status_code == 403
    response = login(center_manager).get(url)
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2
    cells = lines[1].split(",")
    assert cells[:2] == [member.volunteer_no, "钱律师"]
    assert [Decimal(cells[3]), int(cells[4]), Decimal(cells[5])] == [Decimal("5"), 1, Decimal("3")]
    assert "社区法律咨询" in cells[6]


@pytest.mark.django_db
def test_self_service_duty_toggle_and_posts(client, station):
    user = UserFactory(role="volunteer")
    me = InServiceVolunteerFactory(user=user, station=station)
    post = PostFactory(station=station)
    client.force_login(user)
    page = client.get(reverse("volunteers:me"))
    assert page.status_code == 200 and post.title in page.content.decode()
    response = client.post(reverse("volunteers:my_duty"), {"on_duty": "1"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="duty-button"' in response.content.decode()
    me.refresh_from_db()
    assert me.on_duty
    client.post(reverse("volunteers:my_post_claim", args=[post.pk]), {"skills": "法律咨询"})
    assert PostClaim.objects.get(volunteer=me).skills == "法律咨询"
    claim = PostClaim.objects.get()
    client.post(reverse("volunteers:my_post_withdraw", args=[claim.pk]))
    claim.refresh_from_db()
    assert claim.status == PostClaim.Status.WITHDRAWN


@pytest.mark.django_db
def test_self_service_refuses_others(client, station, outsider):
    other = UserFactory(role="volunteer")
    mine = InServiceVolunteerFactory(station=station)
    claim = services.post_claim(actor=None, post=PostFactory(station=station), volunteer=mine)
    InServiceVolunteerFactory(user=other, station=station)
    client.force_login(other)
    assert client.post(reverse("volunteers:my_post_withdraw", args=[claim.pk])).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("volunteers:me")).status_code == 403
    assert client.post(reverse("volunteers:my_duty"), {"on_duty": "1"}).status_code == 403


@pytest.mark.django_db
def test_my_page_query_count_is_constant(client, station, django_assert_num_queries):
    user = UserFactory(role="volunteer")
    me = InServiceVolunteerFactory(user=user, station=station)
    client.force_login(user)
    client.get(reverse("volunteers:me"))

    def grow(n):
        for i in range(n):
            services.hours_record(
                actor=None,
                volunteer=me,
                date=timezone.localdate(),
                hours=Decimal("1"),
                source="order",
                description="x",
                station=station,
                source_ref=f"{me.pk}-{i}-{n}",
            )
            PostFactory(station=station)

    grow(1)
    # session, user, volunteer, hours count (capped), hours page, certificates, claims,
    # open posts, notifications
    with django_assert_num_queries(9):
        client.get(reverse("volunteers:me"))
    grow(10)
    with django_assert_num_queries(9):
        client.get(reverse("volunteers:me"))
