from . import roles
from .registry import nav_for


def navigation(request):
    """The menu the current user gets (every app registers its entries in
    center.registry) and ``can``: role flags templates use to show a button.
    Role checks only, no query; the pages enforce access again."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], "can": {}}
    return {
        "nav": nav_for(user),
        "can": {
            "staff": roles.is_staff_role(user),
            "manage": roles.is_manager(user),
            "center": roles.is_center_manager(user),
            "volunteer": roles.is_volunteer(user),
            "provider": roles.is_provider(user),
        },
    }
