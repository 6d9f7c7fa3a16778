"""Response headers that Django and django-csp do not set."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy`` from ``settings.PERMISSIONS_POLICY``.

    ``{"camera": []}`` becomes ``camera=()`` (no origin may use the camera);
    ``{"geolocation": ["self"]}`` becomes ``geolocation=(self)``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = ", ".join(
                f"{feature}=({' '.join(allowed)})"
                for feature, allowed in settings.PERMISSIONS_POLICY.items()
            )
        return response
