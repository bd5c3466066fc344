from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.help_page, name="help"),
    path("ask/", views.ask, name="ask"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/answer/", views.answer, name="answer"),
    path("requests/<int:pk>/close/", views.close, name="close"),
]
