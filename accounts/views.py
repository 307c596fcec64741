from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from voipxs.purposes import Purpose

from .selectors import phone_number_list


@login_required
def my_numbers(request: HttpRequest) -> HttpResponse:
    numbers = phone_number_list(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user)
    return render(request, "accounts/numbers.html", {"numbers": numbers})
