"""URLs of the host app."""

from __future__ import annotations

from django.urls import path

from host import views

urlpatterns = [
    path("exchanges/<slug:engagement_id>/", views.exchange_detail, name="exchange"),
    path("exchanges/<slug:engagement_id>/fire/<slug:trigger>/", views.fire, name="fire"),
]
