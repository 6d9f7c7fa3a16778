"""Log in with a mobile number or a username."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .validators import MOBILE_RE, normalize_mobile


class MobileOrUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        mobile = normalize_mobile(username)
        lookup = {"mobile": mobile} if MOBILE_RE.match(mobile) else {"username": username}
        try:
            user = User.objects.get(**lookup)
        except User.DoesNotExist:
            # Same cost as a real check, so timing does not reveal who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
