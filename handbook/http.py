"""What the views of both apps share about HTTP methods."""

from __future__ import annotations

from functools import wraps

from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse


def post_only(page: str):
    """For a view that only takes the POST of a form shown on `page` (a URL name): a GET is sent
    to that page instead of a blank 405.

    A GET comes from a bookmark, or from signing in again: a form sent with an expired session is
    redirected to sign-in with its own address as `next`, and after signing in the browser asks
    for that address with GET. The page is reversed with the view's own arguments where it takes
    them (a policy's confirmation goes back to that policy), else without. Put it under the
    view's access checks, so that who may not use the form meets them as before.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method not in ("GET", "HEAD"):
                return HttpResponseNotAllowed(["POST"])
            try:
                return redirect(reverse(page, kwargs=kwargs))
            except NoReverseMatch:
                return redirect(page)

        return wrapper

    return decorator
