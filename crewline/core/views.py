from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Office staff land on the work orders; technicians on their own visits."""
    member = request.member
    if member is None:
        return render(request, "core/no_membership.html", status=403)
    target = "workorders:list" if member.is_office else "workorders:my_visits"
    try:
        return redirect(reverse(target))
    except NoReverseMatch:
        return render(request, "core/home.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
