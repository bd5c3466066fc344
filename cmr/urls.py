from django.urls import path

from . import views

app_name = "cmr"

urlpatterns = [
    path("callbacks/", views.callback, name="callback"),
    path("transmissions/", views.transmissions, name="transmissions"),
    path("transmissions/<int:pk>/retry/", views.retry, name="retry"),
]
