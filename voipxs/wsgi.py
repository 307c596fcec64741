"""The WSGI application gunicorn serves (gunicorn.conf.py).

A switch's CDR push (`/calls/push/`, traffic/push) goes to a lean Django handler: the push carries no
session, CSRF token, language, messages or sign-in, so it runs only the middleware it needs (security
and response headers, host check, the access-audit hook) and resolves against its one route
(traffic/push/urls.py). The full middleware chain cost a push ~0.4 ms of its ~0.9 ms of request CPU
(BENCHMARKS.md, "Push"). Every other path goes to Django's usual handler.
"""
import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.urls import set_urlconf
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voipxs.settings")

PUSH_PATH = "/calls/push/"
PUSH_URLCONF = "traffic.push.urls"  # a name, as ROOT_URLCONF: voipxs imports no app
# What a push needs of settings.MIDDLEWARE, in its order there (a test checks it is a sub-list).
PUSH_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",  # ALLOWED_HOSTS
    "voipxs.privacy.audit.AuditAccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "voipxs.middleware.SecurityHeadersMiddleware",
)


class PushHandler(WSGIHandler):
    """Django's WSGI handler with the push's middleware only and its one route."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for middleware_path in reversed(PUSH_MIDDLEWARE):
            middleware = import_string(middleware_path)(handler)
            for hook, kept in (("process_view", self._view_middleware),
                               ("process_template_response", self._template_response_middleware),
                               ("process_exception", self._exception_middleware)):
                if hasattr(middleware, hook):
                    (kept.insert(0, getattr(middleware, hook)) if hook == "process_view"
                     else kept.append(getattr(middleware, hook)))
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler

    def get_response(self, request):
        request.urlconf = PUSH_URLCONF
        try:
            return super().get_response(request)
        finally:
            set_urlconf(None)  # the thread's next reverse() uses the site's routes again


def dispatching(pages, push):
    """The WSGI application: `push` for the push path, `pages` for everything else."""

    def application(environ, start_response):
        if environ.get("PATH_INFO") == PUSH_PATH:
            return push(environ, start_response)
        return pages(environ, start_response)

    return application


application = dispatching(get_wsgi_application(), PushHandler())
