from django.urls import path

from . import views

app_name = "affiliates"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.situation, name="situation"),
    path("<int:pk>/corrections/new/", views.correction_new, name="correction_new"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/<int:pk>/", views.correction, name="correction"),
    path("corrections/<int:pk>/decide/", views.correction_decide, name="correction_decide"),
    path("corrections/<int:pk>/document/", views.correction_document, name="correction_document"),
]
