"""events URLs: record (included by events/urls.py under app_name "events")."""

urlpatterns = []
