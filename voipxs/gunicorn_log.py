"""gunicorn's logger (gunicorn.conf.py `logger_class`): its access log with the token of a password-reset link left
out of the path, and both its logs' handlers with voipxs.log_secrets.SecretsFilter (the error log writes the request's
URI when a request fails: "Error handling request <uri>")."""
from __future__ import annotations

from gunicorn.glogging import Logger

from .log_secrets import SecretsFilter, redact


class AccessLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.addFilter(SecretsFilter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = redact(atoms.get("U") or "")
        return atoms
