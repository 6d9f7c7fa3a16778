"""Every URL of the portal × every role × GET and POST, on real rows of two stations.

- Nobody ever gets a 500, whatever the role or method.
- Station manager A never gets station B's objects: a page or action on a B
  object is 404 (or 403/405 when the role may not use the page at all), and no
  list, htmx fragment or JSON answer shows B's residents, orders or providers.
- A volunteer never gets another volunteer's order.
- The registry below must name every URL pattern of the apps: adding a URL
  without saying how to fill it fails ``test_every_url_is_in_the_sweep``.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from center.models import Role
from center.validators import id_check_character
from requests import services as hotline
from requests.models import Device, ResidentContact
from requests.selectors import hash_secret
from tests.factories import (
    CommunityFactory,
    InServiceVolunteerFactory,
    MerchantFactory,
    OrganizationFactory,
    PostFactory,
    ResidentFactory,
    ServiceItemFactory,
    SpecialtyFactory,
    UserFactory,
    VolunteerFactory,
)
from tests.test_outsider_everywhere import APPS, named_patterns
from volunteers import services as vs
from volunteers.models import HoursEntry, ImportBatch, ServiceTeam

# Open to anyone by design (login, language, health, the device API, one's own inbox).
PUBLIC = {
    "login",
    "logout",
    "set_language",
    "healthz",
    "favicon",
    "requests:device_call",
    "center:inbox",
    "center:inbox_badge",
    # The micro-wish wall and a wish's shared link (masked, no login).
    "requests:wish_wall",
    "requests:wish_public",
    # A wish's photo, only when it is on the wall and marked publishable.
    "requests:wish_public_photo",
    # The record (纪实): the figures the center reports publicly and the chosen
    # highlights, no personal data; anyone reads it, no login (events part D).
    "events:record",
    "events:record_period",
    "events:record_print",
    # A volunteer's calendar feed: calendar apps send no login; the secret token is the key.
    "events:calendar_feed",
}


# Objects that belong to the whole city (the catalogue, organizations, the import form):
# no "other station's copy" to refuse.
CITY_WIDE = {
    "center:item_detail",
    "center:item_update",
    "volunteers:import_upload",
    "volunteers:import_template",
    "volunteers:organization_export",
    # The empty file to fill in for a resident import: the same for everyone.
    "requests:resident_import_template",
    # Any volunteer adopts any wish on the city's public wall.
    "requests:wish_adopt",
    # The service day is city-wide: any volunteer signs up at any station's stall.
    "events:signup_create",
    # A service day is city-wide: every staff member opens it; its page, its
    # message and its new-venue form show or reach only the user's own venues
    # (both sides have a venue on the same day: see _add_staff_day).
    "events:day_detail",
    "events:day_move",
    "events:day_message",
    "events:venue_create",
}


def _side(world, side):
    return getattr(world, side)


# URL name → kwargs for the objects of one side ("a" or "b"); None: no object in the URL.
REGISTRY = {
    "center:home": None,
    "center:station_list": None,
    "center:station_create": None,
    "center:station_detail": lambda w, s: {"pk": _side(w, s).station.pk},
    "center:station_update": lambda w, s: {"pk": _side(w, s).station.pk},
    "center:catalogue": None,
    "center:item_create": None,
    "center:item_detail": lambda w, s: {"pk": w.item.pk},
    "center:item_update": lambda w, s: {"pk": w.item.pk},
    # Issue 13, part C: the delivery log (center managers; station managers see
    # their stations' managers' deliveries), a resend (center managers only:
    # 403 for the rest; no row here, tests/center/test_delivery_log.py resends
    # real ones) and one's own message settings.
    "center:delivery_list": None,
    "center:delivery_resend": lambda w, s: {"pk": 0},
    "center:notification_settings": None,
    "volunteers:team_message": lambda w, s: {"pk": _side(w, s).team.pk},
    "volunteers:volunteer_list": None,
    "volunteers:volunteer_create": None,
    "volunteers:volunteer_detail": lambda w, s: {"pk": _side(w, s).volunteer.pk},
    "volunteers:volunteer_update": lambda w, s: {"pk": _side(w, s).volunteer.pk},
    "volunteers:volunteer_reveal": lambda w, s: {
        "pk": _side(w, s).volunteer.pk,
        "field": "mobile",
    },
    "volunteers:volunteer_hours_add": lambda w, s: {"pk": _side(w, s).volunteer.pk},
    "volunteers:volunteer_certificate_issue": lambda w, s: {"pk": _side(w, s).volunteer.pk},
    "volunteers:volunteer_activation": lambda w, s: {"pk": _side(w, s).volunteer.pk},
    "volunteers:certificate_detail": lambda w, s: {"pk": _side(w, s).certificate.pk},
    "volunteers:hours_pending": None,
    "volunteers:hours_verify": lambda w, s: {"pk": _side(w, s).pending_hours.pk},
    "volunteers:merchant_list": None,
    "volunteers:merchant_create": None,
    "volunteers:merchant_detail": lambda w, s: {"pk": _side(w, s).merchant.pk},
    "volunteers:merchant_update": lambda w, s: {"pk": _side(w, s).merchant.pk},
    "volunteers:merchant_offer_set": lambda w, s: {"pk": _side(w, s).merchant.pk},
    "volunteers:merchant_activation": lambda w, s: {"pk": _side(w, s).merchant.pk},
    "volunteers:team_list": None,
    "volunteers:team_create": None,
    "volunteers:team_detail": lambda w, s: {"pk": _side(w, s).team.pk},
    "volunteers:team_update": lambda w, s: {"pk": _side(w, s).team.pk},
    "volunteers:complaint_list": None,
    "volunteers:complaint_create": lambda w, s: {
        "provider": "volunteer",
        "pk": _side(w, s).volunteer.pk,
    },
    "volunteers:complaint_detail": lambda w, s: {"pk": _side(w, s).complaint.pk},
    "volunteers:complaint_rule": lambda w, s: {"pk": _side(w, s).complaint.pk},
    "volunteers:sanction_revoke": lambda w, s: {"pk": _side(w, s).sanction.pk},
    "volunteers:post_list": None,
    "volunteers:post_create": None,
    "volunteers:post_detail": lambda w, s: {"pk": _side(w, s).post.pk},
    "volunteers:post_report": lambda w, s: {"pk": _side(w, s).claim.pk},
    "volunteers:import_upload": lambda w, s: {"kind": "volunteers"},
    "volunteers:import_template": lambda w, s: {"kind": "volunteers", "fmt": "csv"},
    "volunteers:import_preview": lambda w, s: {"pk": _side(w, s).batch.pk},
    "volunteers:import_apply": lambda w, s: {"pk": _side(w, s).batch.pk},
    "volunteers:organization_list": None,
    "volunteers:organization_export": lambda w, s: {
        "pk": w.organization.pk,
        "year": timezone.localdate().year,
        "quarter": 1,
    },
    "volunteers:me": None,
    "volunteers:my_duty": None,
    "volunteers:my_availability": None,
    "volunteers:my_post_claim": lambda w, s: {"pk": _side(w, s).post.pk},
    "volunteers:my_post_withdraw": lambda w, s: {"pk": _side(w, s).claim.pk},
    "requests:console": None,
    "requests:console_lookup": None,
    "requests:console_alerts": None,
    "requests:alert_acknowledge": lambda w, s: {"pk": _side(w, s).order.pk},
    "requests:phone_reveal": lambda w, s: {"kind": "phone", "pk": _side(w, s).phone.pk},
    "requests:resident_create": None,
    "requests:order_list": None,
    "requests:order_create": lambda w, s: {"resident": _side(w, s).resident.pk},
    "requests:order_detail": lambda w, s: {"pk": _side(w, s).order.pk},
    "requests:order_merge": lambda w, s: {"pk": _side(w, s).order.pk},
    "requests:order_offer": lambda w, s: {"pk": _side(w, s).new_order.pk},
    "requests:order_assign": lambda w, s: {"pk": _side(w, s).new_order.pk},
    "requests:order_step": lambda w, s: {"pk": _side(w, s).order.pk, "step": "urge"},
    "requests:followup_queue": None,
    "requests:followup": lambda w, s: {"pk": _side(w, s).done_order.pk},
    "requests:my_orders": None,
    "requests:my_offers": None,
    "requests:my_order": lambda w, s: {"pk": _side(w, s).order.pk},
    "requests:my_take": lambda w, s: {"pk": _side(w, s).order.pk},
    "requests:my_take_assigned": lambda w, s: {"pk": _side(w, s).order.pk},
    "requests:my_step": lambda w, s: {"pk": _side(w, s).order.pk, "step": "on_the_way"},
    # The special-group registry (issue 11): the side's resident and its rows
    # (made on first use by _registry_row: a POST may have removed them).
    "requests:resident_list": None,
    "requests:resident_export": None,
    "requests:resident_import": None,
    "requests:resident_import_template": lambda w, s: {"fmt": "csv"},
    "requests:resident_import_preview": lambda w, s: {"pk": _registry_row(w, s, "import").pk},
    "requests:resident_import_apply": lambda w, s: {"pk": _registry_row(w, s, "import").pk},
    "requests:resident_detail": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:resident_edit": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:resident_group_add": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:resident_group_edit": lambda w, s: {
        "pk": _side(w, s).resident.pk,
        "gid": _registry_row(w, s, "group").pk,
    },
    "requests:resident_group_remove": lambda w, s: {
        "pk": _side(w, s).resident.pk,
        "gid": _registry_row(w, s, "group").pk,
    },
    "requests:resident_contact_add": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:resident_contact_edit": lambda w, s: {
        "pk": _side(w, s).resident.pk,
        "cid": _registry_row(w, s, "contact").pk,
    },
    "requests:resident_contact_remove": lambda w, s: {
        "pk": _side(w, s).resident.pk,
        "cid": _registry_row(w, s, "contact").pk,
    },
    "requests:resident_consent_record": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:resident_consent_withdraw": lambda w, s: {
        "pk": _side(w, s).resident.pk,
        "cid": _registry_row(w, s, "consent").pk,
    },
    "requests:resident_sensitive_edit": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:resident_sensitive_reveal": lambda w, s: {"pk": _side(w, s).resident.pk},
    # Micro-wishes (issue 11): the side's wish (see _add_wishes).
    "requests:wish_adopt": lambda w, s: {"pk": _side(w, s).wish.pk},
    "requests:wish_list": None,
    "requests:wish_create": None,
    "requests:wish_overdue": None,
    "requests:wish_detail": lambda w, s: {"pk": _side(w, s).wish.pk},
    "requests:wish_update": lambda w, s: {"pk": _side(w, s).draft_wish.pk},
    "requests:wish_photo": lambda w, s: {"pk": _side(w, s).wish.pk, "which": "wish"},
    "requests:wish_step": lambda w, s: {"pk": _side(w, s).wish.pk, "step": "withdraw"},
    "requests:my_wishes": None,
    "requests:my_wish_step": lambda w, s: {"pk": _side(w, s).wish.pk, "step": "contact"},
    # Pairing and care visits (issue 11): the side's pairing, visit and slot (see _add_care).
    "requests:care_overview": None,
    "requests:care_resident": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:visit_create": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:care_phone_reveal": lambda w, s: {
        "pk": _side(w, s).resident.pk,
        "phone_pk": _side(w, s).phone.pk,
    },
    "requests:care_contact_reveal": lambda w, s: {
        "pk": _side(w, s).resident.pk,
        "contact_pk": _registry_row(w, s, "contact").pk,
    },
    "requests:rota_schedule": lambda w, s: {"pk": _side(w, s).resident.pk},
    "requests:pairing_create": None,
    "requests:pairing_update": lambda w, s: {"pk": _side(w, s).pairing.pk},
    "requests:pairing_end": lambda w, s: {"pk": _side(w, s).pairing.pk},
    "requests:visit_detail": lambda w, s: {"pk": _side(w, s).visit.pk},
    "requests:visit_order": lambda w, s: {"pk": _side(w, s).visit.pk},
    "requests:visit_wish": lambda w, s: {"pk": _side(w, s).visit.pk},
    "requests:slot_take": lambda w, s: {"pk": _side(w, s).slot.pk},
    "requests:slot_release": lambda w, s: {"pk": _side(w, s).slot.pk},
    "requests:my_care": None,
    # Service days (issue 12): the side's shift and its volunteer's sign-up (see _add_service_day).
    "events:upcoming": None,
    "events:my_shifts": None,
    "events:signup_create": lambda w, s: {"pk": _side(w, s).shift.pk},
    "events:signup_cancel": lambda w, s: {"pk": _side(w, s).signup.pk},
    # events part A: staff service days, venues, stalls, rosters
    "events:day_list": None,
    "events:day_add": None,
    "events:day_detail": lambda w, s: {"pk": _side(w, s).staff_day.pk},
    "events:day_move": lambda w, s: {"pk": _side(w, s).staff_day.pk},
    "events:day_message": lambda w, s: {"pk": _side(w, s).staff_day.pk},
    "events:venue_create": lambda w, s: {"pk": _side(w, s).staff_day.pk},
    "events:venue_update": lambda w, s: {"pk": _side(w, s).shift.stall.venue.pk},
    "events:venue_delete": lambda w, s: {"pk": _side(w, s).shift.stall.venue.pk},
    "events:venue_roster": lambda w, s: {"pk": _side(w, s).shift.stall.venue.pk},
    "events:venue_roster_fragment": lambda w, s: {"pk": _side(w, s).shift.stall.venue.pk},
    "events:stall_create": lambda w, s: {"pk": _side(w, s).shift.stall.venue.pk},
    "events:stall_update": lambda w, s: {"pk": _side(w, s).shift.stall.pk},
    "events:stall_delete": lambda w, s: {"pk": _side(w, s).shift.stall.pk},
    "events:stall_report": lambda w, s: {"pk": _side(w, s).shift.stall.pk},
    "events:shift_create": lambda w, s: {"pk": _side(w, s).shift.stall.pk},
    "events:shift_update": lambda w, s: {"pk": _side(w, s).shift.pk},
    "events:shift_delete": lambda w, s: {"pk": _side(w, s).shift.pk},
    "events:signup_check_in": lambda w, s: {"pk": _side(w, s).signup.pk},
    "events:signup_check_out": lambda w, s: {"pk": _side(w, s).signup.pk},
    "events:signup_staff_cancel": lambda w, s: {"pk": _side(w, s).signup.pk},
    # events part B: code check-in, calendar
    "events:stall_code": lambda w, s: {"pk": _side(w, s).shift.stall.pk},
    "events:self_check_in": lambda w, s: {"pk": _side(w, s).shift.stall.pk, "code": "x"},
    "events:shift_ics": lambda w, s: {"pk": _side(w, s).signup.pk},
    "events:calendar": None,
    "events:calendar_reset": None,
    # events part C: activities
    "events:activity_list": None,
    "events:activity_create": None,
    "events:activity_detail": lambda w, s: {"pk": _side(w, s).activity.pk},
    "events:activity_update": lambda w, s: {"pk": _side(w, s).activity.pk},
    "events:activity_cancel": lambda w, s: {"pk": _side(w, s).activity.pk},
    "events:activity_held": lambda w, s: {"pk": _side(w, s).activity.pk},
    "events:activity_call_up": lambda w, s: {"pk": _side(w, s).activity.pk},
    "events:participation_add": lambda w, s: {"pk": _side(w, s).activity.pk},
    "events:participation_record": lambda w, s: {"pk": _side(w, s).participation.pk},
    "events:my_activities": None,
    "events:participation_respond": lambda w, s: {"pk": _side(w, s).participation.pk},
    "events:participation_join": lambda w, s: {"pk": _side(w, s).activity.pk},
    # events part D: record, highlights
    "events:highlight_add": None,
    "events:highlight_remove": lambda w, s: {"pk": _side(w, s).highlight.pk},
    "events:highlight_move": lambda w, s: {"pk": _side(w, s).highlight.pk},
    # events photos
    "events:photo": lambda w, s: {"pk": _side(w, s).stall_photo.pk},
    "events:photo_publish": lambda w, s: {"pk": _side(w, s).stall_photo.pk},
    "events:photo_delete": lambda w, s: {"pk": _side(w, s).stall_photo.pk},
    "events:stall_photo_add": lambda w, s: {"pk": _side(w, s).shift.stall.pk},
    "events:activity_photo_add": lambda w, s: {"pk": _side(w, s).photo_activity.pk},
    # sweep: calls and unmatched requests (issue 14, part A)
    "requests:call_panel": None,
    "requests:call_list": None,
    "requests:unmatched_list": None,
    "requests:unmatched_create": None,
    # sweep: weathervane (issue 14, part B)
    "reports:weathervane": None,
    # sweep: dashboards (issue 14, part C)
    "reports:dashboard": None,
    "reports:dashboard_figures": None,
    "reports:center_dashboard": None,
    "reports:center_dashboard_figures": None,
    # sweep: monthly report and exports (issue 14, part D)
    # The report's pages (managers only; a station manager's report shows
    # their stations) and each side's report file (see world: part D).
    "reports:monthly": None,
    "reports:export_list": None,
    "reports:export_create": None,
    "reports:export_detail": lambda w, s: {"pk": _side(w, s).report_export.pk},
    "reports:export_progress": lambda w, s: {"pk": _side(w, s).report_export.pk},
    "reports:export_download": lambda w, s: {"pk": _side(w, s).report_export.pk},
}

# Extra GET parameters that make a page show data (a search, a lookup).
QUERY = {
    "requests:console": "?phone=135",
    "requests:console_lookup": "?phone=135",
    "requests:order_list": "?status=",
    "requests:wish_create": "?q=乙站",
}

# Whatever a form or action asks for: enough for most services to do something.
POST_DATA = {
    "reason": "sweep",
    "note": "sweep",
    "notes": "sweep",
    "fee": "0",
    "on_duty": "1",
    "valid": "True",
    "satisfaction": "satisfied",
    "score": "5",
    "description": "sweep",
    "caller_phone": "13512345678",
    "volunteer_no": "",
    "hours": "1",
    "date": "2026-11-01",
    "availability": "周一 09:00-12:00",
}

APP_URLS = sorted(
    name for name, _p in named_patterns() if name.split(":")[0] in APPS and name not in PUBLIC
)


def test_every_url_is_in_the_sweep():
    missing = sorted(set(APP_URLS) - set(REGISTRY))
    assert not missing, f"add these URLs to tests/test_url_sweep.py REGISTRY: {missing}"
    gone = sorted(set(REGISTRY) - set(APP_URLS))
    assert not gone, f"REGISTRY names URLs that no longer exist: {gone}"


def _station_side(label: str, station, operator, item, specialty) -> SimpleNamespace:
    """One station's worth of data, each name carrying ``label`` so leaks are visible."""
    community = CommunityFactory()
    station.communities.add(community)
    resident = ResidentFactory(name=f"{label}居民", community=community)
    phone = resident.phones.get()
    ResidentContact.objects.create(
        resident=resident, name=f"{label}家属", relation="女儿", phone="13700001111"
    )
    vol_user = UserFactory(role=Role.VOLUNTEER)
    volunteer = VolunteerFactory(
        name=f"{label}志愿者", station=station, user=vol_user, on_duty=True
    )
    volunteer.service_items.add(item)
    merchant = MerchantFactory(name=f"{label}商户", stations=[station])
    team = vs.team_create(
        actor=None,
        data={
            "name": f"{label}服务队",
            "kind": ServiceTeam.Kind.SPECIALTY,
            "specialty": specialty,
            "station": station,
            "is_active": True,
            "leader": volunteer,
        },
    )
    member = InServiceVolunteerFactory(name=f"{label}在职党员", station=station)
    post = PostFactory(station=station, title=f"{label}岗位")
    claim = vs.post_claim(actor=None, post=post, volunteer=member)

    order = hotline.order_create(
        actor=operator, resident=resident, item=item, channel="hotline", station=station
    )
    hotline.order_assign(actor=operator, order=order, provider=volunteer)
    new_order = hotline.order_create(
        actor=operator,
        resident=resident,
        item=ServiceItemFactory(specialty=specialty),
        channel="hotline",
        station=station,
    )
    done_order = hotline.order_create(
        actor=operator,
        resident=resident,
        item=ServiceItemFactory(specialty=specialty),
        channel="hotline",
        station=station,
    )
    hotline.order_assign(actor=operator, order=done_order, provider=merchant)
    hotline.order_take(actor=operator, order=done_order)
    hotline.order_complete(actor=operator, order=done_order, notes="修好了", fee=Decimal("0"))

    today = timezone.localdate()
    vs.hours_record(
        actor=None,
        volunteer=volunteer,
        date=today,
        hours=Decimal("3"),
        source=HoursEntry.Source.MANUAL,
        description="服务",
        station=station,
        reason="sweep",
    )
    pending_hours = vs.hours_record(
        actor=None,
        volunteer=volunteer,
        date=today,
        hours=Decimal("1"),
        source=HoursEntry.Source.MANUAL,
        description="待审核",
        station=station,
        reason="sweep",
        verified=False,
    )
    first17 = f"3304021990010112{volunteer.pk % 10}"
    volunteer.id_number = first17 + id_check_character(first17)
    volunteer.save(update_fields=["id_number"])
    certificate = vs.certificate_issue(
        actor=operator,
        volunteer=volunteer,
        station=station,
        period_start=today - datetime.timedelta(days=30),
        period_end=today,
    )
    complaint = vs.complaint_record(actor=operator, provider=merchant, description="态度差")
    complaint = vs.complaint_rule(actor=operator, complaint=complaint, valid=True, reason="属实")
    Device.objects.create(device_id=f"YJT-{label}", secret_hash=hash_secret("s"), resident=resident)
    return SimpleNamespace(
        station=station,
        resident=resident,
        phone=phone,
        volunteer=volunteer,
        vol_user=vol_user,
        merchant=merchant,
        team=team,
        post=post,
        claim=claim,
        order=order,
        new_order=new_order,
        done_order=done_order,
        pending_hours=pending_hours,
        certificate=certificate,
        complaint=complaint,
        sanction=complaint.sanction,
        markers=[
            resident.name,
            volunteer.name,
            merchant.name,
            team.name,
            post.title,
            order.number,
            done_order.number,
        ],
    )


def _add_care(side, label: str) -> None:
    """The side's resident (special) paired with the side's volunteer, a
    visit, and an open rota slot."""
    from requests.models import Resident
    from requests.services import care

    Resident.objects.filter(pk=side.resident.pk).update(is_special=True)
    side.pairing = care.pairing_create(
        actor=None, resident=side.resident, volunteer=side.volunteer, cadence_days=14
    )
    side.visit = care.care_visit_record(
        actor=None,
        resident=side.resident,
        volunteer=side.volunteer,
        visited_on=timezone.localdate(),
        minutes=30,
        found=f"{label}走访发现",
    )
    side.slot = care.rota_schedule(
        actor=None,
        resident=side.resident,
        first_on=timezone.localdate() + datetime.timedelta(days=1),
        every_days=7,
        count=1,
    )[0]
    side.markers += [side.visit.found]


def _tiny_jpeg(name: str):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    return ContentFile(buf.getvalue(), name=name)


def _add_wishes(side, label: str) -> None:
    """A wish adopted by the side's volunteer and a draft, each at the side's station."""
    from requests.services import wishes as wish_services
    from tests.factories import MicroWishFactory

    side.wish = MicroWishFactory(
        resident=side.resident,
        station=side.station,
        title=f"{label}心愿",
        photo=_tiny_jpeg(f"sweep-{label}.jpg"),  # the photo views have a file to serve
        photo_publishable=True,
    )
    wish_services.wish_adopt(actor=None, wish=side.wish, volunteer=side.volunteer)
    side.draft_wish = MicroWishFactory(
        resident=side.resident, station=side.station, title=f"{label}草稿心愿", status="draft"
    )
    side.markers += [side.wish.title, side.draft_wish.title]


def _add_service_day(side, label: str) -> None:
    """A stall at the side's station on a coming service day, one shift, and
    the side's volunteer signed up for it."""
    from events.services.signups import signup_create
    from tests.factories import ShiftFactory

    side.shift = ShiftFactory(
        stall__venue__station=side.station, stall__venue__name=f"{label}服务点"
    )
    side.signup = signup_create(actor=None, shift=side.shift, volunteer=side.volunteer)


def _add_staff_day(side, label: str) -> None:
    """Both sides' venues on one shared coming service day (events part A).
    Venue and stall names are no markers: every volunteer sees every
    station's stalls (events:upcoming); tests/events/test_staff_days.py
    checks that a station manager's day page shows only their venues."""
    from events.models import ServiceDay
    from tests.factories import ShiftFactory

    side.staff_day, _new = ServiceDay.objects.get_or_create(
        date=timezone.localdate() + datetime.timedelta(days=3000),
        defaults={"theme": "党在我心中·我在群众中", "is_extra": True},
    )
    ShiftFactory(
        stall__venue__day=side.staff_day,
        stall__venue__station=side.station,
        stall__venue__name=f"{label}集市",
        stall__service=f"{label}义诊",
    )


def _add_event_photos(side, label: str) -> None:
    """A staff-only photo of the side's stall, and an activity of the side's
    station to add photos to."""
    from events.models import EventPhoto
    from tests.factories import ActivityFactory

    side.stall_photo = EventPhoto.objects.create(
        stall=side.shift.stall, image=_tiny_jpeg(f"sweep-stall-{label}.jpg"), caption=f"{label}照片"
    )
    side.photo_activity = ActivityFactory(station=side.station, title=f"{label}照片活动")


def _add_activity(side, label: str) -> None:
    """A planned activity of the side's station, coming next week, and the
    side's volunteer invited to it."""
    from events.services import activities
    from tests.factories import ActivityFactory

    side.activity = ActivityFactory(
        station=side.station, title=f"{label}重阳走访", organizer=f"{label}组织方"
    )
    side.participation = activities.participation_add(
        actor=None, activity=side.activity, volunteer=side.volunteer
    )
    side.markers += [side.activity.title, side.activity.organizer]


def _add_highlight(side, label: str) -> None:
    """A stall of the side's station on a past service day (a day per side:
    the date is unique), a highlight of that month."""
    from events.models import Highlight
    from tests.factories import ServiceDayFactory, StallFactory

    first = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    day = ServiceDayFactory(date=first + datetime.timedelta(days=2 if label == "甲站" else 3))
    stall = StallFactory(
        venue__day=day, venue__station=side.station, venue__name=f"{label}纪实服务点"
    )
    side.highlight = Highlight.objects.create(
        period="month", period_start=first, title=f"{label}本月亮点", stall=stall
    )
    side.markers += [side.highlight.title]


def _registry_row(world, side, kind):
    """The side's registry row of ``kind``, made if missing (a POST of the
    sweep may have removed it): a membership, a contact, a consent, an import."""
    from requests.models import ResidentConsent, ResidentGroup, ResidentImport
    from tests.factories import special_group

    resident = _side(world, side).resident
    if kind == "group":
        row, _new = ResidentGroup.objects.get_or_create(
            resident=resident, group=special_group("living-alone")
        )
    elif kind == "contact":
        row = resident.contacts.first() or ResidentContact.objects.create(
            resident=resident, name="家属", relation="女儿", phone="13700001111"
        )
    elif kind == "consent":
        row = ResidentConsent.objects.filter(resident=resident).first()
        row = row or ResidentConsent.objects.create(
            resident=resident, scope=["health"], method="signed", given_on=timezone.localdate()
        )
    else:
        uploader = world.users["station_manager" if side == "a" else "center_manager"]
        row, _new = ResidentImport.objects.get_or_create(
            filename=f"{side}.csv", created_by=uploader
        )
    return row


@pytest.fixture
def world(db, station, other_station, operator, center_manager, station_manager):
    specialty = SpecialtyFactory()
    item = ServiceItemFactory(specialty=specialty)
    a = _station_side("甲站", station, operator, item, specialty)
    b = _station_side("乙站", other_station, operator, item, specialty)
    _add_wishes(a, "甲站")
    _add_wishes(b, "乙站")
    _add_care(a, "甲站")
    _add_care(b, "乙站")
    _add_service_day(a, "甲站")
    _add_service_day(b, "乙站")
    # world: events parts add their rows here
    _add_staff_day(a, "甲站")
    _add_staff_day(b, "乙站")
    _add_highlight(a, "甲站")
    _add_highlight(b, "乙站")
    _add_activity(a, "甲站")
    _add_activity(b, "乙站")
    _add_event_photos(a, "甲站")
    _add_event_photos(b, "乙站")
    manager_b = UserFactory(role=Role.STATION_MANAGER, stations=[other_station])
    # world: monthly report exports (issue 14, part D): a written file per side
    from reports.models import ReportExport
    from reports.services import export_write

    for side in (a, b):
        side.report_export = ReportExport.objects.create(
            start=timezone.localdate(),
            end=timezone.localdate(),
            format="xlsx",
            station_ids=[side.station.pk],
            scope_label=side.station.name,
        )
        export_write(side.report_export.pk)  # written: its download can be fetched
    a.batch = ImportBatch.objects.create(
        kind="volunteers", filename="a.csv", created_by=station_manager
    )
    b.batch = ImportBatch.objects.create(kind="volunteers", filename="b.csv", created_by=manager_b)
    return SimpleNamespace(
        a=a,
        b=b,
        item=item,
        organization=OrganizationFactory(),
        users={
            "anonymous": None,
            "outsider": UserFactory(role=""),
            "volunteer": a.vol_user,
            "operator": operator,
            "station_manager": station_manager,
            "center_manager": center_manager,
        },
    )


def _url(name, world, side):
    fill = REGISTRY[name]
    return reverse(name, kwargs=fill(world, side) if fill else None) + QUERY.get(name, "")


def _requests(client, url):
    yield "GET", client.get(url)
    yield "GET htmx", client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    yield "POST", client.post(url, POST_DATA)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_no_role_gets_a_500_and_manager_a_never_sees_b(client, world, name):
    has_object = REGISTRY[name] is not None and name not in CITY_WIDE
    for role, user in world.users.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for side in ("a", "b") if has_object else ("a",):
            url = _url(name, world, side)
            for method, response in _requests(client, url):
                assert response.status_code < 500, (role, method, url)
                if role != "station_manager" and role != "volunteer":
                    continue
                if side == "b":
                    # Another station's object (or another volunteer's order): refused.
                    assert response.status_code in (403, 404, 405), (role, method, url)
                elif method.startswith("GET") and response.status_code == 200:
                    raw = (
                        b"".join(response.streaming_content)  # a photo, a download
                        if response.streaming
                        else response.content
                    )
                    body = raw.decode(errors="replace")
                    leaked = [m for m in world.b.markers if m in body]
                    assert not leaked, (role, url, leaked)


@pytest.mark.django_db
def test_manager_a_reaches_own_objects(client, world):
    """The sweep's 404s mean something: the same pages answer for A's own objects."""
    client.force_login(world.users["station_manager"])
    for name in (
        "center:station_detail",
        "volunteers:volunteer_detail",
        "volunteers:merchant_detail",
        "volunteers:team_detail",
        "volunteers:post_detail",
        "volunteers:complaint_detail",
        "volunteers:certificate_detail",
        "volunteers:import_preview",
        "requests:order_detail",
        "requests:order_create",
        "requests:followup",
    ):
        assert client.get(_url(name, world, "a")).status_code == 200, name
    body = client.get(_url("requests:console_lookup", world, "a")).content.decode()
    assert world.a.resident.name in body and world.b.resident.name not in body


@pytest.mark.django_db
def test_operator_and_center_manager_see_every_station(client, world):
    for role in ("operator", "center_manager"):
        client.force_login(world.users[role])
        body = client.get(_url("requests:console_lookup", world, "a")).content.decode()
        assert world.a.resident.name in body and world.b.resident.name in body, role
        assert client.get(_url("requests:order_detail", world, "b")).status_code == 200
