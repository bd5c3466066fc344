from django.urls import path

from . import views

app_name = "dossiers"

urlpatterns = [
    path("", views.portfolio, name="list"),
    path("queue/", views.queue, name="queue"),
    path("open/<int:affiliate_id>/", views.open_view, name="open"),
    path("affiliate/<int:affiliate_id>/", views.affiliate_block, name="affiliate_block"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/assign/", views.assign_to_me, name="assign"),
    path("<int:pk>/upload/", views.upload, name="upload"),
    path("<int:pk>/documents/<int:doc_pk>/", views.document_file, name="document"),
    path("<int:pk>/documents/<int:doc_pk>/remove/", views.document_remove, name="document_remove"),
    path("<int:pk>/act/<str:name>/", views.act, name="act"),
    path("<int:pk>/request-documents/", views.request_documents_view, name="request_documents"),
    path("<int:pk>/observations/", views.observe, name="observe"),
    path("<int:pk>/slip/<int:round>/", views.slip, name="slip"),
    path("<int:pk>/slip-to-sign/", views.slip_to_sign, name="slip_to_sign"),
    path("<int:pk>/slip-to-sign/download/", views.pending_slip, name="pending_slip"),
    path("<int:pk>/certify-signed/", views.certify_signed, name="certify_signed"),
    path("<int:pk>/second-certifier/", views.name_second_certifier, name="second_certifier"),
    path("<int:pk>/delegate/", views.delegate, name="delegate"),
    path("<int:pk>/return-delegation/", views.return_delegation, name="return_delegation"),
]
