"""Organizations and posts (双报到): the employers of in-service members, the
posts stations publish, and members' claims on them.

Each function: one transaction, the changed rows locked, the rule checked
(a ValidationError a user can read), the write, an audit entry.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from center.audit import apply_changes, audit, jsonable
from center.models import User

from ..models import Organization, Post, PostClaim, Volunteer

ORGANIZATION_FIELDS = ("name", "kind", "contact_name", "contact_phone")
POST_FIELDS = ("station", "title", "kind", "schedule", "description", "capacity", "is_open")


# --- Organizations -------------------------------------------------------------


@transaction.atomic
def organization_create(*, actor: User | None, data: dict[str, Any]) -> Organization:
    org = Organization(**{k: v for k, v in data.items() if k in ORGANIZATION_FIELDS})
    org.full_clean()
    org.save()
    audit(
        actor=actor, action="volunteers.organization.created", target=org, data={"name": org.name}
    )
    return org


@transaction.atomic
def organization_update(
    *, actor: User | None, organization: Organization, data: dict[str, Any]
) -> Organization:
    """Plain contact details: no rule beyond the model's (a unique name)."""
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    changed = apply_changes(org, data, ORGANIZATION_FIELDS)
    org.full_clean()
    if changed:
        org.save(update_fields=list(changed))
    audit(actor=actor, action="volunteers.organization.updated", target=org, data=jsonable(changed))
    return org


@transaction.atomic
def organization_delete(*, actor: User | None, organization: Organization) -> None:
    """Delete an organization none of whose members is registered any more."""
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    audit(
        actor=actor, action="volunteers.organization.deleted", target=org, data={"name": org.name}
    )
    try:
        org.delete()
    except ProtectedError as exc:
        raise ValidationError(
            _("%(name)s still has registered members: it cannot be deleted.") % {"name": org.name}
        ) from exc


# --- Posts (双报到) ------------------------------------------------------------


@transaction.atomic
def post_create(*, actor: User | None, data: dict[str, Any]) -> Post:
    post = Post(**{k: v for k, v in data.items() if k in POST_FIELDS})
    post.full_clean()
    post.save()
    audit(actor=actor, action="volunteers.post.created", target=post, data={"title": post.title})
    return post


@transaction.atomic
def post_update(*, actor: User | None, post: Post, data: dict[str, Any]) -> Post:
    """Change a post's details. Claims already made stay, even past a lowered
    capacity: the capacity limits new claims (``post_claim``)."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    changed = apply_changes(post, data, POST_FIELDS)
    post.full_clean()
    if changed:
        post.save(update_fields=list(changed))
    audit(actor=actor, action="volunteers.post.updated", target=post, data=jsonable(changed))
    return post


@transaction.atomic
def post_delete(*, actor: User | None, post: Post) -> None:
    """Delete a post and its claims (the back office)."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    audit(
        actor=actor,
        action="volunteers.post.deleted",
        target=post,
        data={"title": post.title, "claims": post.claims.count()},
    )
    post.delete()


@transaction.atomic
def post_claim(
    *, actor: User | None, post: Post, volunteer: Volunteer, skills: str = ""
) -> PostClaim:
    """An in-service member claims a post. Inverse: ``post_withdraw``.

    The post row is locked so that two members racing for the last place
    cannot both get it.
    """
    post = Post.objects.select_for_update().get(pk=post.pk)
    if volunteer.kind != Volunteer.Kind.IN_SERVICE:
        raise ValidationError(_("Posts are claimed by in-service members."))
    if not post.is_open:
        raise ValidationError(_("This post is not open for claims."))
    live = post.claims.exclude(status=PostClaim.Status.WITHDRAWN)
    if live.filter(volunteer=volunteer).exists():
        raise ValidationError(_("You have already claimed this post."))
    if live.count() >= post.capacity:
        raise ValidationError(
            _("This post is full (%(capacity)s places).") % {"capacity": post.capacity}
        )
    claim = PostClaim.objects.create(post=post, volunteer=volunteer, skills=skills)
    audit(
        actor=actor, action="volunteers.post.claimed", target=post, data={"volunteer": volunteer.pk}
    )
    return claim


@transaction.atomic
def post_withdraw(*, actor: User | None, claim: PostClaim) -> PostClaim:
    """Inverse of ``post_claim``: frees the place."""
    claim = PostClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status == PostClaim.Status.WITHDRAWN:
        raise ValidationError(_("This claim was already withdrawn."))
    claim.status = PostClaim.Status.WITHDRAWN
    claim.save(update_fields=["status"])
    audit(
        actor=actor,
        action="volunteers.post.withdrawn",
        target=claim.post,
        data={"volunteer": claim.volunteer_id},
    )
    return claim


@transaction.atomic
def post_report(*, actor: User | None, claim: PostClaim) -> PostClaim:
    """The member reports in at the station (报到)."""
    claim = PostClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != PostClaim.Status.CLAIMED:
        raise ValidationError(_("Only a claimed post can be reported in."))
    claim.status = PostClaim.Status.REPORTED
    claim.reported_at = timezone.now()
    claim.save(update_fields=["status", "reported_at"])
    audit(
        actor=actor,
        action="volunteers.post.reported",
        target=claim.post,
        data={"volunteer": claim.volunteer_id},
    )
    return claim
