"""What every officer page checks first."""
from __future__ import annotations

from django.http import Http404, HttpRequest

from voipxs.privacy.purposes import Role, has_role


def officer_only(request: HttpRequest) -> None:
    """Anyone without the legal officer role gets 404: customers never learn that a disclosure exists."""
    if not has_role(request.user, Role.LEGAL_OFFICER):
        raise Http404
