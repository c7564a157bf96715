"""Django app configuration for the host app."""

from __future__ import annotations

from django.apps import AppConfig


class HostConfig(AppConfig):
    """The host platform's own records."""

    name = "host"
    default_auto_field = "django.db.models.BigAutoField"
