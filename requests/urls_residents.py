"""URLs of the residents pages (issue 11), included by requests/urls.py under the app namespace."""

from django.urls import path

from .views import residents as views

urlpatterns: list = [
    path("residents/", views.ResidentListView.as_view(), name="resident_list"),
    path("residents/export.csv", views.resident_export, name="resident_export"),
    path("residents/import/", views.ResidentImportView.as_view(), name="resident_import"),
    path(
        "residents/import/template.<str:fmt>",
        views.resident_import_template,
        name="resident_import_template",
    ),
    path(
        "residents/import/<int:pk>/",
        views.ResidentImportPreviewView.as_view(),
        name="resident_import_preview",
    ),
    path(
        "residents/import/<int:pk>/apply/",
        views.resident_import_apply,
        name="resident_import_apply",
    ),
    path("residents/<int:pk>/", views.ResidentDetailView.as_view(), name="resident_detail"),
    path("residents/<int:pk>/edit/", views.ResidentEditView.as_view(), name="resident_edit"),
    path(
        "residents/<int:pk>/groups/add/",
        views.GroupAddView.as_view(),
        name="resident_group_add",
    ),
    path(
        "residents/<int:pk>/groups/<int:gid>/",
        views.GroupEditView.as_view(),
        name="resident_group_edit",
    ),
    path(
        "residents/<int:pk>/groups/<int:gid>/remove/",
        views.group_remove,
        name="resident_group_remove",
    ),
    path(
        "residents/<int:pk>/contacts/add/",
        views.ContactAddView.as_view(),
        name="resident_contact_add",
    ),
    path(
        "residents/<int:pk>/contacts/<int:cid>/",
        views.ContactEditView.as_view(),
        name="resident_contact_edit",
    ),
    path(
        "residents/<int:pk>/contacts/<int:cid>/remove/",
        views.contact_remove,
        name="resident_contact_remove",
    ),
    path(
        "residents/<int:pk>/consents/add/",
        views.ConsentRecordView.as_view(),
        name="resident_consent_record",
    ),
    path(
        "residents/<int:pk>/consents/<int:cid>/withdraw/",
        views.consent_withdraw,
        name="resident_consent_withdraw",
    ),
    path(
        "residents/<int:pk>/sensitive/",
        views.SensitiveEditView.as_view(),
        name="resident_sensitive_edit",
    ),
    path(
        "residents/<int:pk>/sensitive/reveal/",
        views.sensitive_reveal,
        name="resident_sensitive_reveal",
    ),
]
