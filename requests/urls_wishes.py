"""URLs of the wishes pages (issue 11), included by requests/urls.py under the app namespace."""

urlpatterns: list = []
