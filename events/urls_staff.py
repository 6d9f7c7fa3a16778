"""events URLs: staff (included by events/urls.py under app_name "events")."""

urlpatterns = []
