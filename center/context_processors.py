from .models import Role


def navigation(request):
    """Which menu entries the current user gets (the pages enforce it again)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    staff = user.is_center_manager or user.role in {Role.OPERATOR, Role.STATION_MANAGER}
    return {
        "nav": {
            "stations": staff,
            "catalogue": staff or user.role == Role.VOLUNTEER,
            "manage_catalogue": user.is_center_manager,
            "admin": user.is_staff,
            "providers": staff,
            "manage_providers": user.is_center_manager or user.role == Role.STATION_MANAGER,
            "organizations": user.is_center_manager,
            "me": user.role == Role.VOLUNTEER,
            # Volunteers and merchants: the orders they hold or are offered, nothing else.
            "my_orders": user.role in {Role.VOLUNTEER, Role.MERCHANT},
            "hotline": staff,
        }
    }
