"""Log in with a mobile number or a username."""

from axes.helpers import get_cool_off
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import render

from .validators import MOBILE_RE, normalize_mobile


def login_lookup(login: str) -> dict:
    """What a typed login names: a mobile number (any spelling) or a username."""
    mobile = normalize_mobile(login)
    return {"mobile": mobile} if MOBILE_RE.match(mobile) else {"username": login}


def lockout_key(request, credentials: dict | None) -> str | None:
    """django-axes ``AXES_USERNAME_CALLABLE``: the key failed logins are counted under.

    One account has one key whichever way it is typed (its mobile number in any
    spelling, or its username), so alternating them does not double an
    attacker's attempts. A login that names nobody is counted under its own
    normalised form: the lockout then looks the same for unknown accounts, so it
    does not reveal who exists.
    """
    login = (credentials or {}).get("username")
    if login is None and request is not None:
        login = request.POST.get("username")
    if not login:
        return None
    lookup = login_lookup(login.strip())
    username = get_user_model().objects.filter(**lookup).values_list("username", flat=True).first()
    return username or next(iter(lookup.values()))


def lockout_response(request, original_response, credentials):
    """django-axes ``AXES_LOCKOUT_CALLABLE``: the lockout page, for every kind of request.

    Axes's own answer to an XMLHttpRequest is JSON naming the lockout key, which
    would tell whoever typed a mobile number the username it belongs to.
    """
    minutes = int(get_cool_off(request).total_seconds() // 60)
    return render(request, "registration/lockout.html", {"minutes": minutes}, status=429)


class MobileOrUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        try:
            user = User.objects.get(**login_lookup(username))
        except User.DoesNotExist:
            # Same cost as a real check, so timing does not reveal who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
