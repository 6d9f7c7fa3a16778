"""Micro-wishes (微心愿): every step of a wish is one function here, checked
against ``MicroWish.TRANSITIONS``, audited (``requests.wish.<step>``)."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from center.audit import audit
from center.models import Area, User

from .. import selectors
from ..models import CareVisit, MicroWish, Resident


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
    wish: the wall filters by them, the station's campaign counts them."""
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
    if photo is not None:
        wish.photo = photo
    wish.full_clean(exclude=["resident", "community", "district", "station", "visit", "photo"])
    wish.save()
    audit(actor=actor, action="requests.wish.created", target=wish, data={"source": source})
    return wish
