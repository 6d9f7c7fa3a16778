from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from . import views, views_delivery
from .forms import LoginForm

center_patterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("stations/", views.StationListView.as_view(), name="station_list"),
    path("stations/new/", views.StationCreateView.as_view(), name="station_create"),
    path("stations/<int:pk>/", views.StationDetailView.as_view(), name="station_detail"),
    path("stations/<int:pk>/edit/", views.StationUpdateView.as_view(), name="station_update"),
    path("catalogue/", views.CatalogueView.as_view(), name="catalogue"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/badge/", views.inbox_badge, name="inbox_badge"),
    # Issue 13: the delivery log (staff) and one's own message settings.
    path("deliveries/", views_delivery.DeliveryListView.as_view(), name="delivery_list"),
    path("deliveries/<int:pk>/resend/", views_delivery.delivery_resend, name="delivery_resend"),
    path(
        "account/notifications/",
        views_delivery.notification_settings,
        name="notification_settings",
    ),
    path("catalogue/items/new/", views.ServiceItemCreateView.as_view(), name="item_create"),
    path("catalogue/items/<int:pk>/", views.ServiceItemDetailView.as_view(), name="item_detail"),
    path(
        "catalogue/items/<int:pk>/edit/", views.ServiceItemUpdateView.as_view(), name="item_update"
    ),
]

admin.site.site_header = _("Lianxin back office")
admin.site.site_title = _("Lianxin")
admin.site.index_title = _("Data administration")

# Each feature app that declares ``url_prefix`` on its AppConfig gets its
# ``<app>.urls`` included here, in INSTALLED_APPS order: adding an app's pages
# needs no line in center (and a dotted string is not an import).
feature_patterns = [
    path(config.url_prefix, include(f"{config.name}.urls"))
    for config in apps.get_app_configs()
    if getattr(config, "url_prefix", None) is not None
]

urlpatterns = [
    path("", include((center_patterns, "center"))),
    *feature_patterns,
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Public: a provider sets their first password with the code staff gave them.
    path("accounts/activate/", views.account_activate, name="account_activate"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says. Lazy: the hashed
    # name in production is known only once the staticfiles manifest is read.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico")), name="favicon"),
    path("admin/", admin.site.urls),
]

# Uploads (wish photos) are never served from MEDIA_URL, in development or in
# production: each is streamed by a view that checks who may see it
# (requests:wish_public_photo, requests:wish_photo).

handler403 = "center.views.forbidden"
