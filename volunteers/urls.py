from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns = [
    path("volunteers/", views.VolunteerListView.as_view(), name="volunteer_list"),
    path("volunteers/new/", views.VolunteerCreateView.as_view(), name="volunteer_create"),
    path("volunteers/<int:pk>/", views.VolunteerDetailView.as_view(), name="volunteer_detail"),
    path("volunteers/<int:pk>/edit/", views.VolunteerUpdateView.as_view(), name="volunteer_update"),
    path(
        "volunteers/<int:pk>/reveal/<str:field>/", views.volunteer_reveal, name="volunteer_reveal"
    ),
    path("volunteers/<int:pk>/hours/", views.volunteer_hours_add, name="volunteer_hours_add"),
    path(
        "volunteers/<int:pk>/activation/",
        views.volunteer_activation,
        name="volunteer_activation",
    ),
    path(
        "volunteers/<int:pk>/certificates/",
        views.volunteer_certificate_issue,
        name="volunteer_certificate_issue",
    ),
    path(
        "certificates/<int:pk>/", views.CertificateDetailView.as_view(), name="certificate_detail"
    ),
    path("hours/pending/", views.PendingHoursView.as_view(), name="hours_pending"),
    path("hours/<int:pk>/verify/", views.hours_verify, name="hours_verify"),
    path("merchants/", views.MerchantListView.as_view(), name="merchant_list"),
    path("merchants/new/", views.MerchantCreateView.as_view(), name="merchant_create"),
    path("merchants/<int:pk>/", views.MerchantDetailView.as_view(), name="merchant_detail"),
    path("merchants/<int:pk>/edit/", views.MerchantUpdateView.as_view(), name="merchant_update"),
    path("merchants/<int:pk>/offers/", views.merchant_offer_set, name="merchant_offer_set"),
    path("merchants/<int:pk>/activation/", views.merchant_activation, name="merchant_activation"),
    path("teams/", views.TeamListView.as_view(), name="team_list"),
    path("teams/new/", views.TeamCreateView.as_view(), name="team_create"),
    path("teams/<int:pk>/", views.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<int:pk>/edit/", views.TeamUpdateView.as_view(), name="team_update"),
    path("teams/<int:pk>/message/", views.TeamMessageView.as_view(), name="team_message"),
    path("complaints/", views.ComplaintListView.as_view(), name="complaint_list"),
    path(
        "complaints/new/<str:provider>/<int:pk>/",
        views.ComplaintCreateView.as_view(),
        name="complaint_create",
    ),
    path("complaints/<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint_detail"),
    path("complaints/<int:pk>/rule/", views.complaint_rule, name="complaint_rule"),
    path("sanctions/<int:pk>/revoke/", views.sanction_revoke, name="sanction_revoke"),
    path("posts/", views.PostListView.as_view(), name="post_list"),
    path("posts/new/", views.PostCreateView.as_view(), name="post_create"),
    path("posts/<int:pk>/", views.PostDetailView.as_view(), name="post_detail"),
    path("posts/claims/<int:pk>/report/", views.post_report, name="post_report"),
    path("imports/<str:kind>/", views.ImportView.as_view(), name="import_upload"),
    path(
        "imports/<str:kind>/template.<str:fmt>",
        views.import_template,
        name="import_template",
    ),
    path("imports/batch/<int:pk>/", views.ImportPreviewView.as_view(), name="import_preview"),
    path("imports/batch/<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization_list"),
    path(
        "organizations/<int:pk>/export/<int:year>/q<int:quarter>/",
        views.organization_quarter_export,
        name="organization_export",
    ),
    path("me/", views.MyProfileView.as_view(), name="me"),
    path("me/duty/", views.my_duty_toggle, name="my_duty"),
    path("me/availability/", views.my_availability, name="my_availability"),
    path("me/posts/<int:pk>/claim/", views.my_post_claim, name="my_post_claim"),
    path("me/claims/<int:pk>/withdraw/", views.my_post_withdraw, name="my_post_withdraw"),
]
