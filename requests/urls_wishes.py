"""URLs of the wishes pages (issue 11), included by requests/urls.py under the app namespace."""

from django.urls import path

from .views import wishes as views

urlpatterns: list = [
    # Public: the wall and a wish's shareable page (no login).
    path("wishes/", views.wish_wall, name="wish_wall"),
    path("wishes/<int:pk>/", views.wish_public, name="wish_public"),
    path("wishes/<int:pk>/adopt/", views.wish_adopt, name="wish_adopt"),
    # Only a publishable photo of a wish on the wall; /media is never served.
    path("wishes/<int:pk>/photo/", views.wish_public_photo, name="wish_public_photo"),
    # Staff.
    path("wishes/manage/", views.WishListView.as_view(), name="wish_list"),
    path("wishes/manage/new/", views.WishCreateView.as_view(), name="wish_create"),
    path("wishes/manage/overdue/", views.WishOverdueView.as_view(), name="wish_overdue"),
    path("wishes/manage/<int:pk>/", views.WishDetailView.as_view(), name="wish_detail"),
    path("wishes/manage/<int:pk>/edit/", views.WishUpdateView.as_view(), name="wish_update"),
    path("wishes/manage/<int:pk>/photos/<str:which>/", views.wish_photo, name="wish_photo"),
    path("wishes/manage/<int:pk>/<str:step>/", views.wish_step, name="wish_step"),
    # A volunteer's own, on the phone.
    path("v/wishes/", views.my_wishes, name="my_wishes"),
    path("v/wishes/<int:pk>/<str:step>/", views.my_wish_step, name="my_wish_step"),
]
