"""The login name django-axes counts failed sign-ins under (settings.AXES_USERNAME_CALLABLE).

Axes keeps it in a 255-character column. Django's sign-in forms (the site's and the admin's) do not check a login
name's length before they authenticate, so a longer name reached that column and PostgreSQL refused it: the sign-in
failed with a 500 instead of its form error. No login name is longer than User.username's 150 characters, so a
longer one is counted under its first 255: the attempt still counts, and the page says the name or password is
wrong."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest

AXES_USERNAME_MAX = 255  # axes' AccessAttempt.username and AccessLog.username


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """What axes would take (the credentials' username, else the posted one), cut to what it can store."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "data", request.POST).get("username")
    return username[:AXES_USERNAME_MAX] if isinstance(username, str) else username
