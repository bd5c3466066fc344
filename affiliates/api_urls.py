"""``/api/v1/`` routes of the affiliate registry (included from eretraite/urls.py)."""

from .api import router

app_name = "affiliates-api"

urlpatterns = router.urls
