from django.urls import path

from . import views

app_name = "cmr"

urlpatterns = [
    path("callbacks/", views.callback, name="callback"),
]
