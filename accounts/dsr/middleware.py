"""Opening the privacy-policy page marks every published substantive version as seen by the user."""
from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .policy import policy_notice_seen


class PolicySeenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._path: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self._path is None:
            self._path = reverse("privacy-policy")
        user = getattr(request, "user", None)
        if (request.method == "GET" and request.path == self._path and response.status_code == 200
                and user is not None and user.is_authenticated):
            policy_notice_seen(user=user)
        return response
