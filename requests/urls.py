from django.urls import path

from . import urls_care, urls_residents, urls_wishes, views

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
]

# Special groups and residents, pairing and care visits, micro-wishes (issue 11).
urlpatterns += urls_residents.urlpatterns + urls_care.urlpatterns + urls_wishes.urlpatterns
