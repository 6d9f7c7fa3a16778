"""The special-group registry: memberships, the resident's separate consent,
sensitive data, emergency contacts, reveals and exports (the PIPL access log)
and the all-or-nothing import of special-group residents.

Rules stated once here (docs/privacy.md):

- ``Resident.is_special`` is kept by ``group_add`` / ``group_remove`` (and the
  import, and ``consent_withdraw`` when it removes a sensitive membership): True
  while the resident belongs to any special group. Becoming special, a
  resident without ``last_contact_at`` gets it from their latest order or visit.
- A sensitive field is saved only under a consent in force covering it
  (``CONSENT_FOR``): health notes → health, ID number → id_number, disability
  facts and membership of a sensitive group → disability.
- Audit entries name fields and counts, never a number, an ID number or a health fact.
- Every write here and every sensitive read takes a resident of the actor's
  ``registry_scope`` (the views fetch it with ``get_resident_for_registry``;
  ``_require_scope`` checks again): a station manager who sees a resident only
  through an order routed to their station is refused.
"""

import csv
import datetime
import io
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import apply_changes, audit, audit_many, pii_shown
from center.exports import safe_row
from center.masking import mask_mobile
from center.models import Area, User
from center.validators import normalize_id_number, normalize_phone, validate_phone

from ..models import (
    CareVisit,
    ConsentScope,
    Resident,
    ResidentConsent,
    ResidentContact,
    ResidentGroup,
    ResidentImport,
    ResidentPhone,
    ResidentSensitive,
    ServiceRequest,
    SpecialGroup,
)

# Which consent scope each sensitive field needs.
CONSENT_FOR = {
    "health_notes": ConsentScope.HEALTH,
    "id_number": ConsentScope.ID_NUMBER,
    "disability": ConsentScope.DISABILITY,
}
SENSITIVE_FIELDS = ("id_number", "health_notes")


def _require_scope(actor: User | None, resident: Resident) -> None:
    """Refuse an actor for whom ``resident`` is outside the registry scope
    (``selectors.residents.serves_resident``); ``None`` is the system (demo,
    tasks). No query for city-wide users."""
    from ..selectors.residents import serves_resident

    if getattr(actor, "pk", None) is not None and not serves_resident(actor, resident):
        raise PermissionDenied


def _lock(resident: Resident, actor: User | None = None) -> Resident:
    _require_scope(actor, resident)
    return Resident.objects.select_for_update().get(pk=resident.pk)


def consented_scopes(resident: Resident) -> set[str]:
    """The scopes covered by the resident's consents in force (union): the
    selector the forms show up front (``selectors.residents.consent_states``)."""
    from ..selectors.residents import consented_scopes as held

    return held(resident)


def require_consent(resident: Resident, *scopes: str) -> None:
    held = consented_scopes(resident)
    missing = [s for s in scopes if s not in held]
    if missing:
        labels = "、".join(str(ConsentScope(s).label) for s in missing)
        raise ValidationError(
            _(
                "Record the resident's separate consent covering %(scopes)s first: "
                "sensitive information is saved only under a consent in force."
            )
            % {"scopes": labels},
            # The forms show a link to record the consent next to it.
            code="consent_required",
        )


def _needs_disability_consent(group: SpecialGroup, category: str, level) -> bool:
    return group.is_sensitive or bool(category) or level is not None


def _refresh_special(resident: Resident) -> bool:
    """Keep ``is_special`` (and a first ``last_contact_at``) in step with the
    memberships; the caller holds the resident's row lock."""
    special = ResidentGroup.objects.filter(resident=resident).exists()
    fields = []
    if special != resident.is_special:
        resident.is_special = special
        fields.append("is_special")
    if special and resident.last_contact_at is None:
        last_order = ServiceRequest.objects.filter(resident=resident).aggregate(
            at=Max("received_at")
        )["at"]
        last_visit = CareVisit.objects.filter(resident=resident).aggregate(on=Max("visited_on"))[
            "on"
        ]
        candidates = [last_order] if last_order else []
        if last_visit:
            candidates.append(
                timezone.make_aware(datetime.datetime.combine(last_visit, datetime.time(12)))
            )
        if candidates:
            resident.last_contact_at = max(candidates)
            fields.append("last_contact_at")
    if fields:
        resident.save(update_fields=fields)
    return special


# --- Memberships -------------------------------------------------------------------------


@transaction.atomic
def group_add(
    *,
    actor: User | None,
    resident: Resident,
    group: SpecialGroup,
    disability_category: str = "",
    disability_level: int | None = None,
    verified_on: datetime.date | None = None,
    note: str = "",
) -> ResidentGroup:
    """Put the resident in a special group, with the facts checked and who
    checked them. A sensitive group (disability) or disability facts need a
    consent in force covering disability. Inverse: ``group_remove``."""
    resident = _lock(resident, actor)
    if not group.is_active:
        raise ValidationError({"group": _("This group is no longer in use.")})
    if ResidentGroup.objects.filter(resident=resident, group=group).exists():
        raise ValidationError(
            {"group": _("%(name)s already belongs to this group.") % {"name": resident.name}}
        )
    if group.kind != SpecialGroup.Kind.DISABILITY and (disability_category or disability_level):
        raise ValidationError(_("Disability category and level belong to a disability group only."))
    if _needs_disability_consent(group, disability_category, disability_level):
        require_consent(resident, ConsentScope.DISABILITY)
    membership = ResidentGroup(
        resident=resident,
        group=group,
        disability_category=disability_category or "",
        disability_level=disability_level,
        verified_on=verified_on,
        verified_by=actor if getattr(actor, "pk", None) and verified_on else None,
        note=(note or "").strip(),
    )
    membership.full_clean(exclude=["resident", "group", "verified_by"])
    membership.save()
    _refresh_special(resident)
    audit(
        actor=actor,
        action="requests.resident.group_added",
        target=resident,
        # A sensitive group's name is health data: its id only.
        data={"group": group.pk, "membership": membership.pk},
    )
    return membership


GROUP_FIELDS = ("disability_category", "disability_level", "verified_on", "note")


@transaction.atomic
def group_update(
    *, actor: User | None, membership: ResidentGroup, data: dict[str, Any]
) -> ResidentGroup:
    """Change a membership's facts (``GROUP_FIELDS``); verifying it again
    records who did. Disability facts need a consent covering disability."""
    resident = _lock(membership.resident, actor)
    membership = ResidentGroup.objects.select_related("group").get(pk=membership.pk)
    data = {**data}
    if "disability_category" in data:
        data["disability_category"] = data["disability_category"] or ""
    if "note" in data:
        data["note"] = (data["note"] or "").strip()
    changed = apply_changes(membership, data, GROUP_FIELDS)
    if not changed:
        return membership
    disability = {"disability_category", "disability_level"} & set(changed)
    if disability and membership.group.kind != SpecialGroup.Kind.DISABILITY:
        if membership.disability_category or membership.disability_level:
            raise ValidationError(
                _("Disability category and level belong to a disability group only.")
            )
    if disability and (membership.disability_category or membership.disability_level):
        require_consent(resident, ConsentScope.DISABILITY)
    if "verified_on" in changed and membership.verified_on and getattr(actor, "pk", None):
        membership.verified_by = actor
        changed["verified_by"] = actor
    membership.full_clean(exclude=["resident", "group", "verified_by"])
    membership.save(update_fields=list(changed))
    audit(
        actor=actor,
        action="requests.resident.group_updated",
        target=resident,
        data={"membership": membership.pk, "fields": sorted(changed)},
    )
    return membership


@transaction.atomic
def group_remove(*, actor: User | None, membership: ResidentGroup) -> None:
    """Take the resident out of a group (its facts go with it); the last
    group gone, ``is_special`` is cleared. Inverse of ``group_add`` (which
    would need the facts and, for a sensitive group, the consent again)."""
    resident = _lock(membership.resident, actor)
    membership = ResidentGroup.objects.get(pk=membership.pk)
    group_id = membership.group_id
    membership.delete()
    _refresh_special(resident)
    audit(
        actor=actor,
        action="requests.resident.group_removed",
        target=resident,
        data={"group": group_id},
    )


# --- Consent -----------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor: User | None,
    resident: Resident,
    scope: list[str],
    method: str,
    given_on: datetime.date,
) -> ResidentConsent:
    """Record the resident's separate consent (单独同意) to ``scope`` (health,
    disability, ID number): the condition for saving those fields. Inverse:
    ``consent_withdraw``."""
    resident = _lock(resident, actor)
    scope = sorted(set(scope or []))
    if not scope:
        raise ValidationError({"scope": _("Choose what the consent covers.")})
    unknown = [s for s in scope if s not in ConsentScope.values]
    if unknown:
        raise ValidationError(
            {"scope": _("Unknown consent scope: %(s)s") % {"s": ", ".join(unknown)}}
        )
    if method not in ResidentConsent.Method.values:
        raise ValidationError({"method": _("Choose how the consent was given.")})
    if given_on > timezone.localdate():
        raise ValidationError({"given_on": _("A consent cannot be dated in the future.")})
    consent = ResidentConsent.objects.create(
        resident=resident,
        scope=scope,
        method=method,
        given_on=given_on,
        taken_by=actor if getattr(actor, "pk", None) else None,
    )
    audit(
        actor=actor,
        action="requests.resident.consent_recorded",
        target=resident,
        data={"consent": consent.pk, "scope": scope, "method": method},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User | None, consent: ResidentConsent) -> ResidentConsent:
    """The resident withdraws a consent: no new saves under it, and what it
    alone covered is cleared now (health notes, ID number; disability: the
    memberships of sensitive groups and every disability category and level).
    Scopes another consent in force still covers are kept. Inverse of
    ``consent_record``; what was cleared is not restored by a new consent."""
    resident = _lock(consent.resident, actor)
    consent = ResidentConsent.objects.select_for_update().get(pk=consent.pk)
    if not consent.in_force:
        raise ValidationError(_("This consent was already withdrawn."))
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor if getattr(actor, "pk", None) else None
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    still = consented_scopes(resident)
    gone = [s for s in consent.scope if s not in still]
    cleared: list[str] = []
    sensitive = ResidentSensitive.objects.select_for_update().filter(resident=resident).first()
    if sensitive is not None:
        fields = []
        if ConsentScope.HEALTH in gone and sensitive.health_notes:
            sensitive.health_notes = ""
            fields.append("health_notes")
        if ConsentScope.ID_NUMBER in gone and sensitive.id_number:
            sensitive.id_number = ""
            fields.append("id_number")
        if fields:
            sensitive.updated_by = actor if getattr(actor, "pk", None) else None
            sensitive.save(update_fields=[*fields, "updated_at", "updated_by"])
            cleared += fields
    if ConsentScope.DISABILITY in gone:
        removed, _by_model = ResidentGroup.objects.filter(
            resident=resident, group__is_sensitive=True
        ).delete()
        blanked = (
            ResidentGroup.objects.filter(resident=resident)
            .filter(~Q(disability_category="") | Q(disability_level__isnull=False))
            .update(disability_category="", disability_level=None)
        )
        if removed or blanked:
            cleared.append("disability")
        _refresh_special(resident)
    audit(
        actor=actor,
        action="requests.resident.consent_withdrawn",
        target=resident,
        data={"consent": consent.pk, "scope": list(gone), "cleared": cleared},
    )
    return consent


# --- Sensitive data ----------------------------------------------------------------------


@transaction.atomic
def sensitive_update(
    *, actor: User | None, resident: Resident, data: dict[str, Any]
) -> ResidentSensitive:
    """Save the resident's ID number and/or health notes. Refused unless a
    consent in force covers each field being saved (clearing a field needs
    no consent). The audit names the fields, never their values."""
    resident = _lock(resident, actor)
    data = {k: v for k, v in data.items() if k in SENSITIVE_FIELDS}
    if "id_number" in data:
        data["id_number"] = normalize_id_number(data["id_number"] or "")
    if "health_notes" in data:
        data["health_notes"] = (data["health_notes"] or "").strip()
    sensitive = ResidentSensitive.objects.select_for_update().filter(resident=resident).first()
    if sensitive is None:
        sensitive = ResidentSensitive(resident=resident)
    changed = apply_changes(sensitive, data, SENSITIVE_FIELDS)
    if not changed:
        return sensitive
    needed = [CONSENT_FOR[f] for f, v in changed.items() if v]
    if needed:
        require_consent(resident, *needed)
    sensitive.updated_by = actor if getattr(actor, "pk", None) else None
    sensitive.full_clean(exclude=["resident", "updated_by"])
    sensitive.save()
    audit(
        actor=actor,
        action="requests.resident.sensitive_updated",
        target=resident,
        data={"fields": sorted(changed)},
    )
    return sensitive


def sensitive_reveal(*, actor: User, resident: Resident, purpose: str = "tap") -> dict[str, Any]:
    """The resident's sensitive data in full, logged (``center.pii.revealed``).
    ``resident`` comes from ``get_resident_for_user`` and the caller checked
    the role (``selectors.residents.may_reveal``)."""
    _require_scope(actor, resident)
    sensitive = ResidentSensitive.objects.filter(resident=resident).first()
    memberships = list(
        ResidentGroup.objects.filter(resident=resident)
        .select_related("group")
        .order_by("group__order")
    )
    fields = ["id_number", "health_notes", "disability"]
    pii_shown(actor=actor, target=resident, fields=fields, purpose=purpose)
    return {
        "id_number": sensitive.id_number if sensitive else "",
        "health_notes": sensitive.health_notes if sensitive else "",
        "memberships": memberships,
    }


# --- Emergency contacts ------------------------------------------------------------------


def _contact_data(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key in ("name", "relation"):
        if key in data:
            out[key] = (data[key] or "").strip()
    if "phone" in data:
        number = normalize_phone(data["phone"] or "")
        try:
            validate_phone(number)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
        out["phone"] = number
    if "kind" in data:
        if data["kind"] not in ResidentContact.Kind.values:
            raise ValidationError({"kind": _("Choose a kind of contact.")})
        out["kind"] = data["kind"]
    if "priority" in data:
        out["priority"] = int(data["priority"] or 1)
        if not 1 <= out["priority"] <= 99:
            raise ValidationError({"priority": _("The call order is a number from 1 to 99.")})
    return out


@transaction.atomic
def contact_add(*, actor: User | None, resident: Resident, data: dict[str, Any]) -> ResidentContact:
    """Add an emergency contact (name, relation, phone, kind, priority:
    1 is called first). Inverse: ``contact_remove``."""
    resident = _lock(resident, actor)
    values = _contact_data(data)
    contact = ResidentContact(resident=resident, **values)
    if not contact.name or not contact.relation:
        raise ValidationError(_("A contact needs a name and a relation."))
    contact.full_clean(exclude=["resident"])
    contact.save()
    audit(
        actor=actor,
        action="requests.resident.contact_added",
        target=resident,
        data={"contact": contact.pk, "kind": contact.kind, "priority": contact.priority},
    )
    return contact


@transaction.atomic
def contact_update(
    *, actor: User | None, contact: ResidentContact, data: dict[str, Any]
) -> ResidentContact:
    resident = _lock(contact.resident, actor)
    contact = ResidentContact.objects.get(pk=contact.pk, resident=resident)
    changed = apply_changes(
        contact, _contact_data(data), ("name", "relation", "phone", "kind", "priority")
    )
    if not changed:
        return contact
    if not contact.name or not contact.relation:
        raise ValidationError(_("A contact needs a name and a relation."))
    contact.full_clean(exclude=["resident"])
    contact.save(update_fields=list(changed))
    audit(
        actor=actor,
        action="requests.resident.contact_updated",
        target=resident,
        data={"contact": contact.pk, "fields": sorted(changed)},
    )
    return contact


@transaction.atomic
def contact_remove(*, actor: User | None, contact: ResidentContact) -> None:
    """Inverse of ``contact_add``."""
    resident = _lock(contact.resident, actor)
    pk = contact.pk
    ResidentContact.objects.filter(pk=pk, resident=resident).delete()
    audit(
        actor=actor,
        action="requests.resident.contact_removed",
        target=resident,
        data={"contact": pk},
    )


# --- Export ------------------------------------------------------------------------------

EXPORT_LIMIT = 5000


def residents_export(*, actor: User, residents: list[Resident], purpose: str = "export") -> bytes:
    """The registry rows as CSV (UTF-8 with a BOM for Excel) with their
    sensitive data in full; one access-log row per resident exported
    (``center.pii.exported``), written before the file is returned.
    ``residents`` carry ``phones``, ``groups`` (with group) and ``sensitive``
    prefetched (``selectors.residents.export_rows``). Every cell goes through
    ``center.exports.safe_row`` (no formula runs when the file is opened)."""
    if getattr(actor, "pk", None) is not None:
        from ..selectors.residents import registry_scope

        ids = [r.pk for r in residents]
        if registry_scope(user=actor).filter(pk__in=ids).count() != len(set(ids)):
            raise PermissionDenied  # the view exports ``export_list`` only
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "编号",
            "姓名",
            "电话",
            "社区",
            "地址",
            "特殊群体",
            "残疾类别/等级",
            "免费服务",
            "身份证号",
            "健康情况",
            "最近联系",
        ]
    )
    for r in residents:
        sensitive = getattr(r, "sensitive_row", None)
        groups = list(r.groups.all())
        writer.writerow(
            safe_row(
                [
                    r.pk,
                    r.name,
                    " ".join(mask_mobile(p.number) for p in r.phones.all()),
                    r.community.name if r.community_id else "",
                    r.address,
                    "、".join(m.group.name for m in groups),
                    "、".join(
                        f"{m.get_disability_category_display()}{m.get_disability_level_display() or ''}"
                        for m in groups
                        if m.disability_category or m.disability_level
                    ),
                    "是" if r.is_free else "否",
                    sensitive.id_number if sensitive else "",
                    sensitive.health_notes if sensitive else "",
                    timezone.localtime(r.last_contact_at).strftime("%Y-%m-%d")
                    if r.last_contact_at
                    else "",
                ]
            )
        )
    with transaction.atomic():
        audit_many(
            actor=actor,
            action="center.pii.exported",
            targets=residents,
            data={"fields": ["id_number", "health_notes", "disability"], "purpose": purpose},
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- Import ------------------------------------------------------------------------------

IMPORT_HEADERS = {
    "name": ("姓名", "name"),
    "phones": ("电话", "phones"),
    "community": ("社区", "community"),
    "address": ("地址", "address"),
    "groups": ("特殊群体", "groups"),
    "is_free": ("免费服务", "free"),
    "contact_name": ("紧急联系人", "contact_name"),
    "contact_relation": ("联系人关系", "contact_relation"),
    "contact_phone": ("联系人电话", "contact_phone"),
    "notes": ("备注", "notes"),
}
IMPORT_REQUIRED = ("name", "phones", "community", "groups")
YES = {"是", "y", "yes", "true", "1", "免费"}


def import_parse(filename: str, content: bytes) -> list[dict[str, str]]:
    """A CSV/xlsx file as rows of strings keyed by field (Chinese or English
    headers); the reading rules (encodings, control characters, cell sizes)
    are volunteers' import's."""
    from volunteers.imports import MAX_ROWS, _header_map, _raw_rows

    raw = [r for r in _raw_rows(filename, content) if any(r)]
    if not raw:
        raise ValidationError(_("The file is empty."))
    columns = _header_map(raw[0], IMPORT_HEADERS)
    missing = [IMPORT_HEADERS[f][0] for f in IMPORT_REQUIRED if f not in columns.values()]
    if missing:
        raise ValidationError(_("Missing columns: %(columns)s") % {"columns": "、".join(missing)})
    if len(raw) - 1 > MAX_ROWS:
        raise ValidationError(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
    return [
        {field: (row[i] if i < len(row) else "") for i, field in columns.items()} for row in raw[1:]
    ]


def _split(value: str) -> list[str]:
    for sep in ("，", "、", ";", "；", "/"):
        value = value.replace(sep, ",")
    return [v.strip() for v in value.split(",") if v.strip()]


def import_check(rows: list[dict[str, str]], user) -> tuple[list[dict], list[dict]]:
    """The rows ready to write and the row-level errors (row numbers as in
    the file: the header is row 1). Communities by code or name, groups by
    name or code; a sensitive group cannot be imported (it needs the
    resident's consent first). A resident already registered with the same
    name and phone, or repeated in the file, is an error. Queries: one each
    for communities, groups and existing residents, whatever the size."""
    from center.models import Station
    from center.roles import ALL, station_ids_for
    from volunteers.imports import MAX_CELL, masked_cell

    communities: dict[str, Area] = {}
    wanted = {r.get("community", "").strip() for r in rows} - {""}
    for a in Area.objects.filter(level=Area.Level.COMMUNITY).filter(
        Q(code__in=wanted) | Q(name__in=wanted)
    ):
        communities.setdefault(a.code, a)
        communities.setdefault(a.name, a)
    groups: dict[str, SpecialGroup] = {}
    for g in SpecialGroup.objects.filter(is_active=True):
        groups[g.code] = g
        groups[g.name] = g
    phones_in_file = set()
    parsed = []
    for row in rows:
        numbers = [normalize_phone(p) for p in _split(row.get("phones", ""))]
        phones_in_file.update(numbers)
        parsed.append(numbers)
    taken = (
        set(
            ResidentPhone.objects.filter(number__in=phones_in_file).values_list(
                "resident__name", "number"
            )
        )
        if phones_in_file
        else set()
    )
    # Station managers import only into communities their stations serve.
    ids = station_ids_for(user)
    served: set[int] | None = None
    if ids is not ALL:
        served = set(
            Station.communities.through.objects.filter(station_id__in=ids).values_list(
                "area_id", flat=True
            )
        )
    clean, errors, seen = [], [], {}
    for index, (row, numbers) in enumerate(zip(rows, parsed, strict=True), start=2):
        problems = []
        name = row.get("name", "").strip()
        if not name:
            problems.append(_("the name is missing"))
        elif len(name) > 64:
            problems.append(_("the name is longer than 64 characters"))
        if any(len(v) > MAX_CELL for v in row.values()):
            problems.append(_("a value is longer than %(n)s characters") % {"n": MAX_CELL})
        if not numbers:
            problems.append(_("the phone is missing"))
        for number in numbers:
            try:
                validate_phone(number)
            except ValidationError:
                problems.append(_("phone %(m)s is not a valid number") % {"m": mask_mobile(number)})
                continue
            if (name, number) in taken:
                problems.append(
                    _("%(name)s with phone %(m)s is already registered")
                    % {"name": masked_cell(name), "m": mask_mobile(number)}
                )
            first = seen.setdefault((name, number), index)
            if first != index:
                problems.append(
                    _("%(name)s with phone %(m)s repeats row %(r)s")
                    % {"name": masked_cell(name), "m": mask_mobile(number), "r": first}
                )
        community = communities.get(row.get("community", "").strip())
        if community is None:
            problems.append(
                _("community %(c)s is unknown")
                % {"c": masked_cell(row.get("community", "").strip()) or "—"}
            )
        elif served is not None and community.pk not in served:
            problems.append(
                _("community %(c)s is not served by your stations") % {"c": community.name}
            )
        group_ids = []
        names = _split(row.get("groups", ""))
        if not names:
            problems.append(_("at least one special group is needed"))
        for g in names:
            group = groups.get(g)
            if group is None:
                problems.append(_("special group %(g)s is unknown") % {"g": masked_cell(g)})
            elif group.is_sensitive:
                problems.append(
                    _(
                        "special group %(g)s is sensitive: add it on the resident's page "
                        "after recording their consent"
                    )
                    % {"g": group.name}
                )
            elif group.pk not in group_ids:
                group_ids.append(group.pk)
        contact = None
        c_name, c_rel, c_phone = (
            row.get("contact_name", "").strip(),
            row.get("contact_relation", "").strip(),
            normalize_phone(row.get("contact_phone", "")),
        )
        if c_name or c_rel or c_phone:
            if not (c_name and c_rel and c_phone):
                problems.append(_("an emergency contact needs a name, a relation and a phone"))
            else:
                try:
                    validate_phone(c_phone)
                    contact = {"name": c_name[:64], "relation": c_rel[:32], "phone": c_phone}
                except ValidationError:
                    problems.append(
                        _("contact phone %(m)s is not a valid number") % {"m": mask_mobile(c_phone)}
                    )
        address = row.get("address", "").strip()
        if len(address) > 200:
            problems.append(_("the address is longer than 200 characters"))
        if problems:
            errors.append({"row": index, "messages": problems})
            continue
        clean.append(
            {
                "name": name,
                "phones": list(dict.fromkeys(numbers)),
                "community_id": community.pk,
                "address": address,
                "group_ids": group_ids,
                "is_free": row.get("is_free", "").strip().lower() in YES,
                "contact": contact,
                "notes": row.get("notes", "").strip(),
            }
        )
    return clean, errors


@transaction.atomic
def import_preview(*, actor: User, filename: str, content: bytes) -> ResidentImport:
    """Parse and check a file; nothing but the batch is written. A file with
    any bad row is stored as rejected, with its row-level errors."""
    rows = import_parse(filename, content)
    _clean, errors = import_check(rows, actor)
    batch = ResidentImport.objects.create(
        filename=filename[:200],
        created_by=actor,
        rows=rows,
        errors=errors,
        status=ResidentImport.Status.REJECTED if errors else ResidentImport.Status.PREVIEWED,
    )
    audit(
        actor=actor,
        action="requests.resident_import.previewed",
        target=batch,
        data={"rows": len(rows), "errors": len(errors)},
    )
    return batch


@transaction.atomic
def import_apply(*, actor: User, batch: ResidentImport) -> ResidentImport:
    """Write every row of a previewed batch or none, checked again (a
    resident registered since the preview rejects the file). The raw rows
    are deleted once written."""
    batch = ResidentImport.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ResidentImport.Status.PREVIEWED:
        raise ValidationError(_("This import is not waiting to be applied."))
    if batch.created_by_id != actor.pk:
        raise ValidationError(_("Only the person who uploaded a file can apply it."))
    clean, errors = import_check(batch.rows, actor)
    if errors:
        batch.errors, batch.status = errors, ResidentImport.Status.REJECTED
        batch.save(update_fields=["errors", "status"])
        audit(
            actor=actor,
            action="requests.resident_import.rejected",
            target=batch,
            data={"errors": len(errors)},
        )
        return batch
    from ..selectors import suggest_station

    stations: dict[int, Any] = {}
    residents = []
    for row in clean:
        if row["community_id"] not in stations:
            stations[row["community_id"]] = suggest_station(Area(pk=row["community_id"]))
        station = stations[row["community_id"]]
        residents.append(
            Resident(
                name=row["name"],
                address=row["address"],
                community_id=row["community_id"],
                latitude=station.latitude if station else None,
                longitude=station.longitude if station else None,
                is_free=row["is_free"],
                notes=row["notes"],
                is_special=bool(row["group_ids"]),
            )
        )
    created = Resident.objects.bulk_create(residents, batch_size=1000)
    today = timezone.localdate()
    ResidentPhone.objects.bulk_create(
        [
            ResidentPhone(resident=r, number=n)
            for r, row in zip(created, clean, strict=True)
            for n in row["phones"]
        ],
        batch_size=2000,
    )
    ResidentGroup.objects.bulk_create(
        [
            ResidentGroup(resident=r, group_id=g, verified_on=today, verified_by=actor)
            for r, row in zip(created, clean, strict=True)
            for g in row["group_ids"]
        ],
        batch_size=2000,
    )
    ResidentContact.objects.bulk_create(
        [
            ResidentContact(
                resident=r, kind=ResidentContact.Kind.FAMILY, priority=1, **row["contact"]
            )
            for r, row in zip(created, clean, strict=True)
            if row["contact"]
        ],
        batch_size=2000,
    )
    audit_many(
        actor=actor, action="requests.resident.created", targets=created, data={"import": batch.pk}
    )
    batch.status, batch.applied_at, batch.created_count = (
        ResidentImport.Status.APPLIED,
        timezone.now(),
        len(created),
    )
    # Written where they belong now: the raw copy goes (PIPL: keep no more than needed).
    batch.rows, batch.rows_purged_at = [], batch.applied_at
    batch.save(update_fields=["status", "applied_at", "created_count", "rows", "rows_purged_at"])
    audit(
        actor=actor,
        action="requests.resident_import.applied",
        target=batch,
        data={"created": len(created)},
    )
    return batch


def import_rows_purge(now: datetime.datetime | None = None) -> int:
    """Raw rows of batches never applied go after IMPORT_RETENTION_DAYS
    (applied ones lost theirs on apply). Safe to run twice."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.LIANXIN["IMPORT_RETENTION_DAYS"])
    return ResidentImport.objects.filter(created_at__lt=cutoff, rows_purged_at__isnull=True).update(
        rows=[], rows_purged_at=now
    )


def import_template(fmt: str) -> bytes:
    headers = [aliases[0] for aliases in IMPORT_HEADERS.values()]
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(headers)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    out = io.StringIO()
    csv.writer(out).writerow(headers)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


__all__ = [
    "CONSENT_FOR",
    "consented_scopes",
    "group_add",
    "group_update",
    "group_remove",
    "consent_record",
    "consent_withdraw",
    "sensitive_update",
    "sensitive_reveal",
    "contact_add",
    "contact_update",
    "contact_remove",
    "residents_export",
    "import_preview",
    "import_apply",
    "import_rows_purge",
    "import_template",
]
