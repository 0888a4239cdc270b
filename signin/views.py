"""Signing in and out: the kommune's own sign-in first, local accounts below.

Thin views: the protocol is Authlib's (client.py), who the person is is matching.py, the writes
are linking.py. Every failure ends on a Norwegian page that says what to do; none is a 500.
"""

from __future__ import annotations

import logging

from authlib.integrations.base_client import MismatchingStateError, OAuthError
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from policies.forms import LoginForm

from .client import (
    PROTOCOL_ERRORS,
    PROVIDER_ERRORS,
    ProviderError,
    TokenRefused,
    client_for,
    end_session_url,
    state_is_known,
)
from .linking import complete_sign_in, record_refusal, record_sign_out
from .matching import SignInRefused
from .models import Outcome, SignInConfig

log = logging.getLogger(__name__)

SESSION_NEXT = "signin_next"
SESSION_ORGANISATION = "signin_organisation"
SESSION_ID_TOKEN = "signin_id_token"
# The status each refusal answers with: the person is known to be refused (403), the request was
# stale or malformed (400), or the provider failed (502).
STATUS = {
    Outcome.UNKNOWN: 403,
    Outcome.INACTIVE: 403,
    Outcome.AMBIGUOUS: 403,
    Outcome.MISSING_CLAIM: 403,
    Outcome.STATE: 400,
    Outcome.CANCELLED: 400,
    Outcome.INVALID_TOKEN: 400,
    Outcome.UNAVAILABLE: 502,
}


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse(settings.LOGIN_REDIRECT_URL)


class Login(LoginView):
    """`/logg-inn/`: «Logg inn med <kommune>s pålogging» first; username and password below."""

    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get(self, request, *args, **kwargs):
        slug = request.GET.get("kommune")
        if slug and not request.user.is_authenticated:
            config = SignInConfig.objects.enabled().filter(organisation__slug=slug).first()
            if config is not None:
                return redirect(_start_url(config, request.GET.get("next")))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["signin_configs"] = list(
            SignInConfig.objects.enabled().order_by("organisation__name")
        )
        return context


login_page = Login.as_view()


def _start_url(config: SignInConfig, next_url: str | None) -> str:
    url = reverse("signin_start", args=[config.organisation.slug])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@require_GET
def organisation_login(request: HttpRequest, org: str) -> HttpResponse:
    """`/<kommune>/logg-inn/`: straight to that kommune's own sign-in."""
    config = get_object_or_404(SignInConfig.objects.enabled(), organisation__slug=org)
    return redirect(_start_url(config, request.GET.get("next")))


def _refused(
    request: HttpRequest,
    config: SignInConfig | None,
    outcome: str,
    *,
    subject: str = "",
    detail: dict | None = None,
) -> HttpResponse:
    record_refusal(
        config=config,
        outcome=outcome,
        ip_address=get_client_ip_address(request),
        subject=subject,
        detail=detail,
    )
    log.warning("sign-in refused: %s %s %s", config and config.organisation.slug, outcome, detail)
    return render(
        request,
        "signin/refused.html",
        {"config": config, "outcome": outcome, "Outcome": Outcome},
        status=STATUS.get(outcome, 400),
    )


@never_cache
@require_GET
def start(request: HttpRequest, org: str) -> HttpResponse:
    """Send the browser to the kommune's provider (state, nonce and PKCE kept in the session)."""
    config = get_object_or_404(SignInConfig.objects.enabled(), organisation__slug=org)
    if request.user.is_authenticated:
        return redirect(_safe_next(request, request.GET.get("next")))
    request.session[SESSION_NEXT] = _safe_next(request, request.GET.get("next"))
    callback = request.build_absolute_uri(reverse("signin_callback", args=[org]))
    try:
        return client_for(config).authorize_redirect(request, callback)
    except ProviderError as exc:
        return _refused(request, config, Outcome.UNAVAILABLE, detail={"error": str(exc)[:300]})
    except (TokenRefused, *PROTOCOL_ERRORS) as exc:
        return _refused(request, config, Outcome.INVALID_TOKEN, detail={"error": str(exc)[:300]})


@never_cache
@require_GET
def callback(request: HttpRequest, org: str) -> HttpResponse:
    """The provider sends the browser back here with a code; Authlib checks it all."""
    config = get_object_or_404(SignInConfig.objects.enabled(), organisation__slug=org)
    error = request.GET.get("error")
    if error:
        # The provider refused or the person cancelled. Some providers leave out the state here;
        # it does not matter, as nobody is signed in either way.
        outcome = Outcome.CANCELLED if error == "access_denied" else Outcome.INVALID_TOKEN
        return _refused(request, config, outcome, detail={"error": error[:100]})
    # Authlib checks the state again below; asking first spares the provider a request for every
    # stale, replayed or forged callback.
    if not state_is_known(config, request):
        return _refused(request, config, Outcome.STATE)
    try:
        token = client_for(config).authorize_access_token(request)
    except MismatchingStateError:
        return _refused(request, config, Outcome.STATE)
    except OAuthError as exc:
        outcome = Outcome.CANCELLED if exc.error == "access_denied" else Outcome.INVALID_TOKEN
        return _refused(request, config, outcome, detail={"error": str(exc)[:300]})
    except ProviderError as exc:
        return _refused(request, config, Outcome.UNAVAILABLE, detail={"error": str(exc)[:300]})
    except (TokenRefused, *PROTOCOL_ERRORS) as exc:
        return _refused(
            request,
            config,
            Outcome.INVALID_TOKEN,
            detail={"error": f"{type(exc).__name__}: {exc}"[:300]},
        )
    except PROVIDER_ERRORS as exc:
        return _refused(request, config, Outcome.UNAVAILABLE, detail={"error": str(exc)[:300]})

    claims = token.get("userinfo")
    if not claims or not token.get("id_token"):
        # Authlib validates an ID token only when there is one; without it nobody signs in.
        return _refused(request, config, Outcome.INVALID_TOKEN, detail={"error": "no id_token"})
    claims = dict(claims)
    try:
        person = complete_sign_in(
            config=config, claims=claims, ip_address=get_client_ip_address(request)
        )
    except SignInRefused as refusal:
        return _refused(
            request, config, refusal.outcome, subject=refusal.subject, detail=refusal.detail
        )

    next_url = request.session.pop(SESSION_NEXT, None)
    login(request, person, backend="people.backends.PersonBackend")
    request.session[SESSION_ORGANISATION] = config.organisation_id
    request.session[SESSION_ID_TOKEN] = token["id_token"]
    return redirect(_safe_next(request, next_url))


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """GET asks, POST logs out (a state change is never a plain link); then the provider too."""
    if request.method != "POST":
        return render(request, "registration/logout.html")
    organisation_id = request.session.get(SESSION_ORGANISATION)
    id_token = request.session.get(SESSION_ID_TOKEN)
    if request.user.is_authenticated:
        record_sign_out(
            person=request.user,
            organisation_id=organisation_id,
            ip_address=get_client_ip_address(request),
        )
    logout(request)
    config = (
        SignInConfig.objects.enabled().filter(organisation_id=organisation_id).first()
        if organisation_id and id_token
        else None
    )
    provider_url = (
        end_session_url(
            config, id_token=id_token, after=request.build_absolute_uri(reverse("logout"))
        )
        if config
        else None
    )
    if provider_url:
        # A page, not a redirect: the CSP's form-action 'self' would stop a form's redirect to
        # another origin. The page moves on at once (meta refresh) and also offers a link.
        return render(
            request, "signin/provider_logout.html", {"config": config, "provider_url": provider_url}
        )
    return redirect("home")
