from django.urls import path

from . import urls_care, urls_residents, urls_wishes, views
from .views import calls as call_views

app_name = "requests"

urlpatterns = [
    path("console/", views.ConsoleView.as_view(), name="console"),
    path("console/lookup/", views.console_lookup, name="console_lookup"),
    path("console/alerts/", views.console_alerts, name="console_alerts"),
    path(
        "console/alerts/<int:pk>/acknowledge/",
        views.alert_acknowledge,
        name="alert_acknowledge",
    ),
    path("phones/<str:kind>/<int:pk>/reveal/", views.phone_reveal, name="phone_reveal"),
    path("residents/new/", views.ResidentCreateView.as_view(), name="resident_create"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/new/<int:resident>/", views.OrderCreateView.as_view(), name="order_create"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("orders/<int:pk>/merge/", views.order_merge, name="order_merge"),
    path("orders/<int:pk>/offer/", views.order_offer, name="order_offer"),
    path("orders/<int:pk>/assign/", views.order_assign, name="order_assign"),
    path("orders/<int:pk>/step/<str:step>/", views.order_step, name="order_step"),
    path("follow-ups/", views.FollowUpQueueView.as_view(), name="followup_queue"),
    path("follow-ups/<int:pk>/", views.FollowUpView.as_view(), name="followup"),
    path("v/orders/", views.my_orders, name="my_orders"),
    path("v/offers/", views.my_offers, name="my_offers"),
    path("v/orders/<int:pk>/", views.my_order, name="my_order"),
    path("v/orders/<int:pk>/take/", views.my_take, name="my_take"),
    path("v/orders/<int:pk>/accept/", views.my_take_assigned, name="my_take_assigned"),
    path("v/orders/<int:pk>/<str:step>/", views.my_step, name="my_step"),
    path("api/devices/call", views.device_call, name="device_call"),
    # The call log and unmatched requests (issue 14, part A).
    path("console/calls/", call_views.call_panel, name="call_panel"),
    path("calls/", call_views.CallListView.as_view(), name="call_list"),
    path("unmatched/", call_views.UnmatchedListView.as_view(), name="unmatched_list"),
    path("unmatched/new/", call_views.TalkCreateView.as_view(), name="unmatched_create"),
]

# Special groups and residents, pairing and care visits, micro-wishes (issue 11).
urlpatterns += urls_residents.urlpatterns + urls_care.urlpatterns + urls_wishes.urlpatterns
