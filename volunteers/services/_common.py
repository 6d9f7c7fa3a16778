"""Helpers shared by the volunteers services: provider numbers, provider
logins, the provider lock. Called inside a service's transaction only."""

from center import accounts
from center.models import Role, User

from ..models import Merchant, Provider, Volunteer


def volunteer_number(pk: int) -> str:
    return f"JX{pk:09d}"


def merchant_login_name(pk: int) -> str:
    return f"SH{pk:09d}"


def _new_login(provider: Volunteer | Merchant) -> tuple[str, accounts.NewLogin]:
    """The role and login a volunteer or merchant gets (they log in with their mobile)."""
    if isinstance(provider, Volunteer):
        return Role.VOLUNTEER, accounts.NewLogin(
            username=provider.volunteer_no, mobile=provider.mobile, full_name=provider.name
        )
    return Role.MERCHANT, accounts.NewLogin(
        username=merchant_login_name(provider.pk), mobile=provider.mobile, full_name=provider.name
    )


def create_logins(actor: User | None, providers: list) -> list[accounts.Issued]:
    """Logins for saved providers of one kind, set on them in memory (the
    caller saves ``user``): same transaction, so no provider is left without one."""
    if not providers:
        return []
    role = _new_login(providers[0])[0]
    issued = accounts.provider_logins_create(
        actor=actor, role=role, logins=[_new_login(p)[1] for p in providers]
    )
    for provider, login in zip(providers, issued, strict=True):
        provider.user = login.user
    return issued


def lock_provider(provider: Provider | Volunteer | Merchant) -> Volunteer | Merchant:
    """Lock the volunteer or merchant itself (its status is what the ladder
    changes, its login what an activation code is for)."""
    subject = provider.subject if isinstance(provider, Provider) else provider
    return type(subject).objects.select_for_update().get(pk=subject.pk)
