"""Micro-wishes (微心愿): every step of a wish is one function here, checked
against ``MicroWish.TRANSITIONS`` (``wish.can(step)``), audited
(``requests.wish.<step>``).

draft → verify → publish → adopt (share by share) → contact → fulfil →
confirm; withdraw with a reason; release (an adoption not contacted in time
goes back to the wall); rollover (a published wish past its deadline gets a
new round, with priority). Money is recorded (pledged, spent), never processed.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from center import photos
from center.audit import apply_changes, audit, jsonable
from center.models import Area, User
from center.notifications import notify
from center.roles import is_staff_role
from center.validators import ID_RE, LANDLINE_RE, MOBILE_RE, nfkc
from volunteers.models import Organization, Volunteer
from volunteers.selectors import provider_can_serve

from .. import selectors
from ..models import CareVisit, MicroWish, Resident, WishAdoption

CENT = Decimal("0.01")
SHARED_FULFILMENT = _lazy(
    "Several adopters share this wish: the station records its fulfilment. "
    "Tell the station what you gave or did."
)


def _column_max(model, field: str) -> Decimal:
    """The largest amount a DecimalField's column holds (numeric(10, 2): 99999999.99)."""
    f = model._meta.get_field(field)
    return Decimal(10) ** (f.max_digits - f.decimal_places) - Decimal(10) ** -f.decimal_places


# A pledge adds to the wish's total: past this, PostgreSQL refuses the row
# ("numeric field overflow") and the page would fail instead of saying why.
PLEDGED_MAX = min(_column_max(MicroWish, "pledged_total"), _column_max(WishAdoption, "amount"))
SPENT_MAX = _column_max(MicroWish, "spent_total")


def _unanchored(pattern: re.Pattern) -> str:
    return pattern.pattern.removeprefix("^").removesuffix("$")


# A phone or ID number in the wall's text identifies the family: the one rule,
# checked when a wish is written (create, update) and again when it is
# published. The patterns are the identifier validators' (center.validators),
# found anywhere in the text, not glued to other digits.
_MOBILE, _LANDLINE, _ID = (_unanchored(p) for p in (MOBILE_RE, LANDLINE_RE, ID_RE))
_PERSONAL_NUMBER = re.compile(
    rf"(?<![0-9])(?:(?:86)?{_MOBILE}|{_LANDLINE}|{_ID})(?![0-9])", re.ASCII
)
# "139 1234 5678", "0573-8234 5678": the separators people type inside a number.
_GAPS_IN_NUMBERS = re.compile(r"(?<=[0-9])[\s\-.·()]+(?=[0-9])")
PUBLIC_TEXT_FIELDS = ("title", "description")


def has_personal_number(text: str) -> bool:
    """Whether ``text`` holds a mobile, a landline with its area code or an ID
    number (full-width digits and separators inside the number included)."""
    text = nfkc(text).upper()
    return bool(
        _PERSONAL_NUMBER.search(text) or _PERSONAL_NUMBER.search(_GAPS_IN_NUMBERS.sub("", text))
    )


def _check_public_text(wish: MicroWish) -> None:
    errors = {
        field: _(
            "Remove the phone or ID number: the title and details are shown on the "
            "public wish wall."
        )
        for field in PUBLIC_TEXT_FIELDS
        if has_personal_number(getattr(wish, field))
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def wish_create(
    *,
    actor: User | None,
    resident: Resident,
    title: str,
    kind: str,
    deadline: datetime.date,
    source: str,
    estimated_cost: Decimal = Decimal("0"),
    description: str = "",
    shares: int = 1,
    visit: CareVisit | None = None,
    photo=None,
) -> MicroWish:
    """Record a wish as a draft (collected on a visit, a call, in the
    community or online); staff verify and publish it. The resident's
    community, its district and the station serving it are copied onto the
    wish: the wall filters by them, the station's campaign counts them.
    A photo is checked and stripped of its metadata (``center.photos``)."""
    community = resident.community
    if community is None:
        raise ValidationError(
            _("Set the resident's community first: the wish is shown by community.")
        )
    district = community
    while district.parent_id is not None and district.level != Area.Level.DISTRICT:
        district = district.parent
    wish = MicroWish(
        resident=resident,
        community=community,
        district=district,
        station=selectors.suggest_station(community),
        title=title.strip(),
        kind=kind,
        deadline=deadline,
        source=source,
        estimated_cost=estimated_cost,
        description=description,
        shares=shares,
        visit=visit,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _check_public_text(wish)
    if photo:
        wish.photo = _photo(photo, field="photo")
    # created_by is empty for the demo and tasks (actor None).
    wish.full_clean(
        exclude=["resident", "community", "district", "station", "visit", "photo", "created_by"]
    )
    wish.save()
    audit(actor=actor, action="requests.wish.created", target=wish, data={"source": source})
    return wish


WISH_FIELDS = (
    "title",
    "description",
    "kind",
    "estimated_cost",
    "shares",
    "deadline",
    "photo_publishable",
)


@transaction.atomic
def wish_update(
    *, actor: User | None, wish: MicroWish, data: dict[str, Any], photo=None
) -> MicroWish:
    """Correct a draft before it is verified (what is wished, the cost, the
    shares, the deadline, the photo). A verified wish is what was checked
    with the family: it is not edited, it is withdrawn and recorded again.

    A new photo is not shown on the wall, whatever the form said: staff say
    so again for it (``wish_photo_publishable``), as the consent given was
    for the old one, whose file is deleted once the change is committed."""
    wish = _locked(wish)
    if wish.status != MicroWish.Status.DRAFT:
        raise ValidationError(_("Only a draft wish can be edited."))
    changed = apply_changes(wish, data, WISH_FIELDS)
    _check_public_text(wish)
    if photo:
        old = wish.photo.name
        wish.photo = _photo(photo, field="photo")
        wish.photo_publishable = False
        changed["photo"] = wish.photo.name
        changed["photo_publishable"] = False
        if old:
            transaction.on_commit(lambda: default_storage.delete(old))
    elif wish.photo_publishable and not wish.photo:
        # "May be shown" ticked with no photo: nothing to consent to yet.
        wish.photo_publishable = False
        changed.pop("photo_publishable", None)
    wish.full_clean(
        exclude=["resident", "community", "district", "station", "visit", "photo", "created_by"]
    )
    if changed:
        wish.save(update_fields=list(changed))
    audit(actor=actor, action="requests.wish.update", target=wish, data=jsonable(changed))
    return wish


@transaction.atomic
def wish_photo_publishable(*, actor: User | None, wish: MicroWish, publishable: bool) -> MicroWish:
    """Staff say whether the wish's photo may be shown on the public wall (a
    photo may show a face: it is never shown until someone says so)."""
    wish = _locked(wish)
    if publishable and not wish.photo:
        raise ValidationError(_("This wish has no photo."))
    wish.photo_publishable = publishable
    wish.save(update_fields=["photo_publishable"])
    audit(
        actor=actor,
        action="requests.wish.photo",
        target=wish,
        data={"publishable": publishable},
    )
    return wish


# --- Review -------------------------------------------------------------------------


@transaction.atomic
def wish_verify(*, actor: User | None, wish: MicroWish) -> MicroWish:
    """Staff checked the wish with the family (draft → verified)."""
    wish = _step(wish, "verify")
    wish.verified_at = timezone.now()
    return _save(wish, actor, "verify", ["status", "verified_at"])


@transaction.atomic
def wish_publish(*, actor: User | None, wish: MicroWish) -> MicroWish:
    """Put a verified wish on the public wall (verified → published)."""
    wish = _step(wish, "publish")
    if wish.deadline < timezone.localdate():
        raise ValidationError(_("The deadline has passed: set a new one before publishing."))
    try:
        _check_public_text(wish)
    except ValidationError:
        # Written before the rule existed: a verified wish is not edited.
        raise ValidationError(
            _(
                "The wish's title or details hold a phone or ID number and the wall is "
                "public: withdraw it and record it again without the number."
            )
        ) from None
    wish.published_at = timezone.now()
    return _save(wish, actor, "publish", ["status", "published_at"])


# --- Adoption -----------------------------------------------------------------------


@transaction.atomic
def wish_adopt(
    *,
    actor: User | None,
    wish: MicroWish,
    volunteer: Volunteer | None = None,
    organization: Organization | None = None,
    shares: int = 1,
    amount: Decimal | None = None,
    is_remote: bool = False,
    deliverer: Volunteer | None = None,
) -> WishAdoption:
    """A volunteer, or an organization through the staff member acting for
    it, takes ``shares`` of a published wish, pledging ``amount`` (by default
    the estimated cost's part for those shares). When the last share is taken
    the wish is adopted and the adopters have ``WISH_CONTACT_DAYS`` to contact
    the family. Remote adoption: the adopter pledges, ``deliverer`` (or a
    volunteer staff choose later) takes it to the door.

    The wish row is locked first: of several people taking the last share at
    once, exactly one gets it; the others read the new count and are told.
    Inverse: ``wish_release`` (all the wish's adoptions at once)."""
    if (volunteer is None) == (organization is None):
        raise ValidationError(_("A wish is adopted by one volunteer or one organization."))
    wish = _locked(wish)
    _check(wish, "adopt")
    if organization is not None and not is_staff_role(actor):
        raise ValidationError(_("An organization adopts a wish through a staff member."))
    if volunteer is not None:
        if not provider_can_serve(volunteer):
            raise ValidationError(
                _("%(name)s is under a sanction and cannot adopt wishes until it ends.")
                % {"name": volunteer.name}
            )
        if wish.adoptions.filter(volunteer=volunteer, status=WishAdoption.Status.ACTIVE).exists():
            raise ValidationError(_("You have already adopted a share of this wish."))
    if deliverer is not None:
        if not is_remote:
            raise ValidationError(_("A deliverer is named for a remote adoption only."))
        _check_deliverer(deliverer)
    try:
        shares = int(shares)
    except (TypeError, ValueError):
        shares = 0
    if shares < 1:
        raise ValidationError({"shares": _("Take at least one share.")})
    if shares > wish.shares_left:
        raise ValidationError(
            {
                "shares": _("Only %(left)s of %(total)s shares are left.")
                % {"left": wish.shares_left, "total": wish.shares}
            }
        )
    if amount is None:
        amount = (wish.estimated_cost * shares / wish.shares).quantize(CENT, ROUND_HALF_UP)
    amount = Decimal(amount)
    if amount < 0:
        raise ValidationError({"amount": _("The pledged amount cannot be negative.")})
    # Compared before rounding (quantize() fails on a huge number), then the total.
    if amount <= PLEDGED_MAX:
        amount = amount.quantize(CENT, ROUND_HALF_UP)
    if wish.pledged_total + amount > PLEDGED_MAX:
        raise ValidationError(
            {"amount": _("The pledges of one wish cannot exceed ¥%(max)s.") % {"max": PLEDGED_MAX}}
        )
    adoption = WishAdoption.objects.create(
        wish=wish,
        volunteer=volunteer,
        organization=organization,
        acted_by=actor if getattr(actor, "pk", None) else None,
        shares=shares,
        amount=amount,
        is_remote=is_remote,
        deliverer=deliverer,
    )
    wish.shares_taken += shares
    wish.pledged_total += amount
    fields = ["shares_taken", "pledged_total"]
    if wish.shares_taken == wish.shares:
        now = timezone.now()
        wish.status = MicroWish.TRANSITIONS["adopt"][1]
        wish.adopted_at = now
        wish.contact_due_at = now + datetime.timedelta(days=settings.LIANXIN["WISH_CONTACT_DAYS"])
        fields += ["status", "adopted_at", "contact_due_at"]
    wish.save(update_fields=fields)
    audit(
        actor=actor,
        action="requests.wish.adopt",
        target=wish,
        data={
            "adoption": adoption.pk,
            "volunteer": getattr(volunteer, "pk", None),
            "organization": getattr(organization, "pk", None),
            "shares": shares,
            "amount": str(amount),
            "remote": is_remote,
            "adopted": wish.status == MicroWish.Status.ADOPTED,
        },
    )
    if wish.status == MicroWish.Status.ADOPTED:
        _tell_station(wish, "requests.wish.adopted", tag=f"adopted.{adoption.pk}")
    return adoption


@transaction.atomic
def wish_deliverer_set(
    *, actor: User | None, adoption: WishAdoption, deliverer: Volunteer
) -> WishAdoption:
    """Staff name the volunteer near the resident who delivers a remote
    adoption (the donor pledged, someone takes it to the door)."""
    adoption = WishAdoption.objects.select_for_update().select_related("wish").get(pk=adoption.pk)
    if not adoption.is_remote or adoption.status != WishAdoption.Status.ACTIVE:
        raise ValidationError(_("Only an active remote adoption gets a deliverer."))
    _check_deliverer(deliverer)
    adoption.deliverer = deliverer
    adoption.save(update_fields=["deliverer"])
    audit(
        actor=actor,
        action="requests.wish.deliverer",
        target=adoption.wish,
        data={"adoption": adoption.pk, "deliverer": deliverer.pk},
    )
    if deliverer.user_id:
        notify(
            recipient=deliverer.user,
            key=f"requests.wish.deliver.{adoption.pk}.{deliverer.pk}",
            kind="requests.wish",
            message="requests.wish.deliver",
            params={"title": adoption.wish.title},
        )
    return adoption


@transaction.atomic
def wish_release(*, actor: User | None, wish: MicroWish, reason: str = "") -> MicroWish:
    """The station puts an adopted wish back on the wall when the adopters
    did not contact the family in time (adopted → published). Inverse of
    ``wish_adopt``: every active adoption is released, the shares and the
    pledged total go back to zero, the adoption and contact times are
    cleared; the adoption rows stay (released) as the record, the round and
    the deadline are kept."""
    wish = _step(wish, "release")
    now = timezone.now()
    if wish.contact_due_at and wish.contact_due_at > now:
        raise ValidationError(
            _("The adopters have until %(due)s to contact the family.")
            % {"due": timezone.localtime(wish.contact_due_at).strftime("%Y-%m-%d %H:%M")}
        )
    released = _release_adoptions(wish, now)
    wish.shares_taken = 0
    wish.pledged_total = Decimal("0")
    wish.adopted_at = None
    wish.contact_due_at = None
    _save(
        wish,
        actor,
        "release",
        ["status", "shares_taken", "pledged_total", "adopted_at", "contact_due_at"],
        data={"adoptions": [a.pk for a in released], "reason": reason.strip()[:200]},
    )
    _tell_adopters(released, "requests.wish.released", wish)
    return wish


# --- After adoption ---------------------------------------------------------------------


@transaction.atomic
def wish_contact(
    *, actor: User | None, wish: MicroWish, volunteer: Volunteer | None = None
) -> MicroWish:
    """The adopter (or the deliverer, or staff for an organization) says the
    family was contacted (adopted → contacted)."""
    wish = _step(wish, "contact")
    _check_adopter(wish, volunteer, actor)
    wish.contacted_at = timezone.now()
    return _save(wish, actor, "contact", ["status", "contacted_at"])


@transaction.atomic
def wish_fulfil(
    *,
    actor: User | None,
    wish: MicroWish,
    note: str,
    photo=None,
    spent: Decimal | None = None,
    volunteer: Volunteer | None = None,
) -> MicroWish:
    """What was given or done, with a photo or not, and what it cost
    (contacted → fulfilled). Staff confirm it with the resident next.

    A shared wish (more than one active adoption, each adopter holding
    shares) is fulfilled by all of them, and one note and one amount stand
    for the whole wish: so only staff (the station, ``volunteer`` None)
    record it, once every share was acted on; an adopter or deliverer is
    refused and told so (``adopter_records_fulfilment``, which "My wishes"
    asks to show the form or say why not)."""
    wish = _step(wish, "fulfil")
    _check_adopter(wish, volunteer, actor)
    if volunteer is not None and not adopter_records_fulfilment(
        wish.adoptions.filter(status=WishAdoption.Status.ACTIVE).count()
    ):
        raise ValidationError(str(SHARED_FULFILMENT))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what was given or done.")})
    if spent is not None and Decimal(spent) < 0:
        raise ValidationError({"spent": _("The amount spent cannot be negative.")})
    if spent is not None and Decimal(spent) > SPENT_MAX:
        raise ValidationError(
            {"spent": _("The amount spent cannot exceed ¥%(max)s.") % {"max": SPENT_MAX}}
        )
    wish.fulfilment_note = note
    fields = ["status", "fulfilment_note", "fulfilled_at"]
    if photo:
        wish.fulfilment_photo = _photo(photo, field="photo")
        fields.append("fulfilment_photo")
    if spent is not None:
        wish.spent_total = Decimal(spent)
        fields.append("spent_total")
    wish.fulfilled_at = timezone.now()
    _save(wish, actor, "fulfil", fields, data={"spent": str(wish.spent_total)})
    _tell_station(wish, "requests.wish.fulfilled", tag="fulfilled")
    return wish


def adopter_records_fulfilment(active_adoptions: int) -> bool:
    """Whether an adopter (or deliverer) records a wish's fulfilment
    themselves: only when theirs is its one active adoption (see ``wish_fulfil``)."""
    return active_adoptions <= 1


@transaction.atomic
def wish_confirm(*, actor: User | None, wish: MicroWish) -> MicroWish:
    """Staff confirmed with the resident that the wish came true
    (fulfilled → confirmed). The adopters are thanked."""
    wish = _step(wish, "confirm")
    wish.confirmed_at = timezone.now()
    _save(wish, actor, "confirm", ["status", "confirmed_at"])
    adoptions = list(
        wish.adoptions.filter(status=WishAdoption.Status.ACTIVE).select_related("volunteer__user")
    )
    _tell_adopters(adoptions, "requests.wish.confirmed", wish)
    return wish


@transaction.atomic
def wish_withdraw(*, actor: User | None, wish: MicroWish, reason: str) -> MicroWish:
    """Take a wish off (the family no longer needs it, it was met another
    way…) before it is fulfilled, with a reason. Its adoptions are released
    and the adopters told."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the wish is withdrawn.")})
    wish = _step(wish, "withdraw")
    now = timezone.now()
    released = _release_adoptions(wish, now)
    wish.withdrawn_reason = reason[:200]
    wish.withdrawn_at = now
    _save(
        wish,
        actor,
        "withdraw",
        ["status", "withdrawn_reason", "withdrawn_at"],
        data={"reason": wish.withdrawn_reason},
    )
    _tell_adopters(released, "requests.wish.withdrawn", wish)
    return wish


@transaction.atomic
def wish_rollover(
    *, wish: MicroWish, today: datetime.date | None = None, actor: User | None = None
) -> bool:
    """A published wish past its deadline starts the next round with
    priority (first on the wall) and a new deadline ``WISH_ROUND_DAYS``
    away. Shares already taken stay taken. Safe to run twice: a wish whose
    deadline is not past is left alone (False)."""
    today = today or timezone.localdate()
    wish = _locked(wish)
    if not wish.can("rollover") or wish.deadline >= today:
        return False
    previous = wish.deadline
    wish.round += 1
    wish.priority = True
    wish.deadline = today + datetime.timedelta(days=settings.LIANXIN["WISH_ROUND_DAYS"])
    _save(
        wish,
        actor,
        "rollover",
        ["round", "priority", "deadline"],
        data={"round": wish.round, "previous_deadline": previous.isoformat()},
    )
    return True


def wishes_roll_over(*, today: datetime.date | None = None) -> int:
    """Every published wish past its deadline rolls over (the daily task);
    each in its own transaction, so one failure stops nothing else."""
    today = today or timezone.localdate()
    done = 0
    for pk in MicroWish.objects.filter(
        status=MicroWish.Status.PUBLISHED, deadline__lt=today
    ).values_list("pk", flat=True):
        done += wish_rollover(wish=MicroWish(pk=pk), today=today)
    return done


# --- Helpers ------------------------------------------------------------------------------


def _locked(wish: MicroWish) -> MicroWish:
    return MicroWish.objects.select_for_update().get(pk=wish.pk)


def _check(wish: MicroWish, step: str) -> None:
    """The one check of a step: ``MicroWish.TRANSITIONS`` through ``can``."""
    if not wish.can(step):
        raise ValidationError(
            _("This wish is “%(status)s”: that step is not possible now.")
            % {"status": wish.get_status_display()}
        )


def _step(wish: MicroWish, step: str) -> MicroWish:
    """Lock the wish, check the step, move it to the step's target state."""
    wish = _locked(wish)
    _check(wish, step)
    wish.status = MicroWish.TRANSITIONS[step][1]
    return wish


def _save(
    wish: MicroWish, actor, step: str, fields: list[str], data: dict | None = None
) -> MicroWish:
    wish.save(update_fields=fields)
    audit(
        actor=actor,
        action=f"requests.wish.{step}",
        target=wish,
        data={"status": wish.status, **(data or {})},
    )
    return wish


def _photo(upload, *, field: str):
    try:
        return photos.clean_photo(upload)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _check_deliverer(deliverer: Volunteer) -> None:
    if not provider_can_serve(deliverer):
        raise ValidationError(
            _("%(name)s is under a sanction and cannot deliver wishes until it ends.")
            % {"name": deliverer.name}
        )


def _check_adopter(wish: MicroWish, volunteer: Volunteer | None, actor) -> None:
    """A volunteer acts on a wish they adopted or deliver; staff (in scope,
    the view's job) act for an organization or record what they were told."""
    if volunteer is None:
        if not is_staff_role(actor):
            raise ValidationError(_("Only the adopter or staff can record this."))
        return
    active = wish.adoptions.filter(status=WishAdoption.Status.ACTIVE)
    if not (
        active.filter(volunteer=volunteer).exists() or active.filter(deliverer=volunteer).exists()
    ):
        raise ValidationError(_("Only the adopter or staff can record this."))


def _release_adoptions(wish: MicroWish, now) -> list[WishAdoption]:
    adoptions = list(
        wish.adoptions.select_for_update(of=("self",))
        .filter(status=WishAdoption.Status.ACTIVE)
        .select_related("volunteer__user")
    )
    for adoption in adoptions:
        adoption.status = WishAdoption.Status.RELEASED
        adoption.released_at = now
    WishAdoption.objects.bulk_update(adoptions, ["status", "released_at"])
    return adoptions


def _tell_station(wish: MicroWish, message: str, *, tag: str) -> None:
    for manager in wish.station.managers.all():
        notify(
            recipient=manager,
            key=f"requests.wish.{wish.pk}.{tag}.{wish.round}.{manager.pk}",
            kind="requests.wish",
            message=message,
            params={"title": wish.title},
        )


def _tell_adopters(adoptions: list[WishAdoption], message: str, wish: MicroWish) -> None:
    tag = message.rsplit(".", 1)[-1]
    for adoption in adoptions:
        user = adoption.volunteer.user if adoption.volunteer_id else None
        if user is not None:
            notify(
                recipient=user,
                key=f"requests.wish.{tag}.{adoption.pk}.{user.pk}",
                kind="requests.wish",
                message=message,
                params={"title": wish.title},
            )
