"""The address a form posts to, opened with GET: signing in again after the session ran out mid-form sends the
person there (login_required's `next`), and so do Enter in the address bar after a refused form, the back
button and a bookmark. Django's `require_POST` answers that with an empty 405 page; `post_only` leads to the
page that holds the form instead. The form still acts only on a POST: a GET changes nothing."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse


View = Callable[..., HttpResponse]


def post_only(form_page: str, *, anchor: str = "") -> Callable[[View], View]:
    """Like `require_POST`, but a GET or HEAD is redirected to the URL named `form_page` (plus `#anchor`)."""
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return redirect(reverse(form_page) + (f"#{anchor}" if anchor else ""))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, *args, **kwargs)
        return wrapped
    return decorator
