"""``/api/v1/`` routes of the dossiers (included from eretraite/urls.py)."""

from .api import router

app_name = "dossiers-api"

urlpatterns = router.urls
