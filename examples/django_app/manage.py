"""A Django project using mentorflow: the host keeps its own data in Django models, the workflow in mentorflow.

Settings are configured in code. Data goes to ``$DJANGO_APP_DATA`` (default: a fresh temporary
directory): Django's SQLite database and mentorflow's SQL store side by side.
Run the app's tests with ``python manage.py test host``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import django
from django.conf import settings


def configure(data: Path) -> None:
    """Django settings for the example, with its data under ``data``."""
    settings.configure(
        DEBUG=False,
        SECRET_KEY="example-only-not-secret",
        ALLOWED_HOSTS=["testserver", "localhost"],
        INSTALLED_APPS=["django.contrib.contenttypes", "host"],
        MIDDLEWARE=[],
        ROOT_URLCONF="host.urls",
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(data / "host.sqlite3")}
        },
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        MENTORFLOW_DB=str(data / "mentorflow.db"),
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    configure(Path(os.environ.get("DJANGO_APP_DATA") or tempfile.mkdtemp(prefix="django-app-")))
    django.setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
