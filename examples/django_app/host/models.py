"""The host's own data: cities, their delegates, and exchanges (each one mentorflow engagement).

mentorflow holds the workflow (phases, deliverables, history, events); the host keeps what it
needs for its own pages and search, such as the current phase, copied by an event handler.
"""

from __future__ import annotations

from django.db import models

from mentorflow import Role


class City(models.Model):
    """A city of the network."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return self.name


class Delegate(models.Model):
    """A person taking part for a city (or the network), with their role in one exchange."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="delegates")
    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    exchange = models.ForeignKey("Exchange", on_delete=models.CASCADE, related_name="delegates")

    def __str__(self) -> str:
        return f"{self.name} ({self.city}, {self.role})"


class Exchange(models.Model):
    """A mentoring exchange as the host lists it; ``engagement_id`` links it to mentorflow."""

    engagement_id = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    method_id = models.CharField(max_length=100, default="eurocities.mentoring")
    themes = models.CharField(max_length=200, help_text="Comma-separated themes.")
    phase = models.CharField(max_length=100, blank=True, help_text="Copied from mentorflow events.")

    def __str__(self) -> str:
        return self.title
