"""gunicorn's access log (gunicorn.conf.py `logger_class`): its own logger, with the token of a password-reset
link left out of the path. The link's path holds the token itself (Django's PasswordResetConfirmView swaps it
for `set-password` only after the first visit), and it opens the account until it is used or expires."""
from __future__ import annotations

import re

from gunicorn.glogging import Logger

# accounts/urls.py: password/reset/<uidb64>/<token>/; the step after it is password/reset/<uidb64>/set-password/.
_RESET_TOKEN = re.compile(r"^(/accounts/password/reset/[^/]+/)(?!set-password/)[^/]+/")


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = _RESET_TOKEN.sub(r"\1[token]/", atoms.get("U") or "")
        return atoms
