from django.urls import path

from vigil.cases import campaign_views

urlpatterns = [
    path("c/<slug:slug>/", campaign_views.campaign_page, name="campaign_page"),
    path("c/<slug:slug>/sign/", campaign_views.campaign_sign, name="campaign_sign"),
    path("c/<slug:slug>/stop/<uuid:signature_id>/", campaign_views.campaign_stop, name="campaign_stop"),
]
