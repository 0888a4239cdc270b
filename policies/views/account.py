"""Logging in and out."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ..forms import LoginForm


class Login(LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


login_view = Login.as_view()


@require_http_methods(["GET", "POST"])
def logout_view(request):
    """GET asks, POST logs out: logging out is a state change, so it is never a plain link."""
    if request.method == "POST":
        logout(request)
        return redirect("home")
    return render(request, "registration/logout.html")
