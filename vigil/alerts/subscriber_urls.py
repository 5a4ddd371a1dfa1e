from django.urls import URLPattern, URLResolver, path

from vigil.alerts import subscriber_views, zone_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sw.js", subscriber_views.service_worker, name="service_worker"),
    path("subscribe/", subscriber_views.subscribe, name="subscribe"),
    path("subscribe/code/", subscriber_views.subscribe_code, name="subscribe_code"),
    path("subscribe/confirm/<str:ticket>/<str:token>/", subscriber_views.subscribe_confirm, name="subscribe_confirm"),
    path("subscribe/fallback/<str:token>/", subscriber_views.subscribe_fallback, name="subscribe_fallback"),
    path("subscribe/unsubscribe/<str:token>/", subscriber_views.unsubscribe, name="unsubscribe"),
    path("subscribe/push/", subscriber_views.subscribe_push, name="subscribe_push"),
    path("subscribe/push/unsubscribe/", subscriber_views.unsubscribe_push, name="unsubscribe_push"),
    path("staff/zones/", zone_views.zone_list, name="zone_list"),
    path("staff/zones/new", zone_views.zone_create, name="zone_create"),
    path("staff/zones/<int:pk>/", zone_views.zone_edit, name="zone_edit"),
]
