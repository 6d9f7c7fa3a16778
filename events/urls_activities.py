"""events URLs: activities (included by events/urls.py under app_name "events")."""

from django.urls import path

from . import views_activities as views

urlpatterns = [
    # Staff: the activities of their stations.
    path("activities/", views.ActivityListView.as_view(), name="activity_list"),
    path("activities/new/", views.ActivityCreateView.as_view(), name="activity_create"),
    path("activities/<int:pk>/", views.ActivityDetailView.as_view(), name="activity_detail"),
    path("activities/<int:pk>/edit/", views.ActivityUpdateView.as_view(), name="activity_update"),
    path("activities/<int:pk>/cancel/", views.ActivityCancelView.as_view(), name="activity_cancel"),
    path("activities/<int:pk>/held/", views.ActivityHeldView.as_view(), name="activity_held"),
    path("activities/<int:pk>/call-up/", views.activity_call_up, name="activity_call_up"),
    path(
        "activities/<int:pk>/participants/add/",
        views.ParticipationAddView.as_view(),
        name="participation_add",
    ),
    path(
        "activities/participants/<int:pk>/record/",
        views.participation_record,
        name="participation_record",
    ),
    # Volunteers: my invitations and activities.
    path("v/activities/", views.my_activities, name="my_activities"),
    path(
        "v/activities/participations/<int:pk>/respond/",
        views.participation_respond,
        name="participation_respond",
    ),
    path("v/activities/<int:pk>/join/", views.participation_join, name="participation_join"),
]
