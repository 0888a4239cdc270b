"""`current_page`: marks the main menu's link to the part of the site being shown; `{% url %}`
answered from a per-process cache; `{% main_menu %}` and `{% language_switch %}` (a builtin, so
every template has them)."""

import functools
import secrets
from types import SimpleNamespace

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.template.loader import get_template, render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from policies.kept import TOKEN, Kept, with_token

register = template.Library()


@register.tag
def url(parser, token):
    """Django's {% url %}, with the addresses it reverses kept per process.

    Reversing one cost about 20 µs, more than any other tag, and a page frame reverses a dozen
    (the menu, the language switch, the confirmation form) that are the same on every request.
    """
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


class CachedURLNode(URLNode):
    def render(self, context):
        # As URLNode.render, with reverse() through _reverse.
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple((k, v.resolve(context)) for k, v in self.kwargs.items())
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = _cached_reverse(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


def _cached_reverse(view_name, args: tuple, kwargs: tuple, current_app) -> str:
    # Everything reverse() reads goes into the key: the URLconf (a request's own or the
    # settings'), the script prefix, the name, its arguments and the namespace. A failure
    # (NoReverseMatch) is not kept; arguments that cannot be a key are reversed every time.
    key = (get_urlconf(), settings.ROOT_URLCONF, get_script_prefix(), view_name, args, kwargs)
    try:
        return _reverse(*key, current_app)
    except TypeError:
        return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)


@functools.lru_cache(maxsize=4096)
def _reverse(urlconf, root_urlconf, prefix, view_name, args, kwargs, current_app) -> str:
    return reverse(
        view_name, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app
    )


@register.simple_tag(takes_context=True)
def current_page(context, prefix: str, exact: bool = False) -> str:
    """' aria-current="page"' when the request is for `prefix` (or below it, unless `exact`)."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    hit = path == prefix if exact else path.startswith(prefix)
    # A fixed attribute, nothing from the request: safe from escaping, or it arrives as text.
    return mark_safe(' aria-current="page"') if hit else ""  # noqa: S308


@register.simple_tag(takes_context=True)
def page_kommune(context):
    """The kommune whose look the page wears: the one it is about, else the reader's own.

    Costs no query: the page's organisation is in its context, and the reader's is loaded for the
    main menu anyway.
    """
    if context.get("error_page"):
        return None  # a 500 or 503 may be the database failing: ask it nothing
    organisation = context.get("organisation")
    if organisation:
        return organisation
    user = context.get("user")
    if user is not None and user.is_authenticated:
        return user.organisation
    return None


LANGUAGE_SWITCH = "partials/_language_switch.html"
SWITCHES_KEPT = 256
_switches = Kept(SWITCHES_KEPT)


@register.simple_tag(takes_context=True)
def language_switch(context):
    """partials/_language_switch.html, rendered once per process for each målform, address and
    signed in or not, with the request's CSRF token put in afterwards.

    It is in the frame of every page, and rendering it cost a signed-in policy page about as much
    as all its SQL. The partial is given exactly what the key holds (the address, whether someone
    is signed in, the token's stand-in; the målform and the list of them it reads itself), so
    nothing else can reach a kept copy: anything else it came to use would be empty on every page.
    """
    request = context.get("request")
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    # Asked only for a signed-in reader: asking makes a CSRF cookie, and an anonymous page with
    # one could no longer be shared from the cache.
    token = _usable_token(context) if signed_in else None
    if request is None or (signed_in and token is None):
        # No request or no token (an error page rendered without one): render it as it stands.
        return _as_it_stands(context, LANGUAGE_SWITCH)
    key = (get_language(), request.get_full_path(), signed_in)
    html = _switches.get_or_make(
        key,
        lambda: render_to_string(
            LANGUAGE_SWITCH,
            {
                "request": SimpleNamespace(get_full_path=key[1]),
                "user": SimpleNamespace(is_authenticated=signed_in),
                "csrf_token": TOKEN,
            },
        ),
    )
    return mark_safe(with_token(html, token) if signed_in else html)  # noqa: S308 - our own rendered template


MAIN_MENU = "partials/_usernav.html"
MENUS_KEPT = 1024
_menus = Kept(MENUS_KEPT)
# Stands for the signed-in person's name in a kept menu: letters and digits, so escaping leaves it.
NAME = f"personname{secrets.token_hex(16)}"


@register.simple_tag(takes_context=True)
def main_menu(context):
    """partials/_usernav.html. For a signed-in person it is rendered once per process for each
    målform, address and what the menu shows of the person besides their name (their kommune,
    whether they manage or edit), with the name and the request's CSRF token put in afterwards:
    the same menu for everyone of a kommune with the same roles, on every page they open.

    The partial is given exactly what the key holds, so nothing else can reach a kept copy.
    Anyone else (signed out, no request or no token) gets the partial rendered as it stands.
    """
    request = context.get("request")
    user = context.get("user")
    if request is None or user is None or not user.is_authenticated:
        return _as_it_stands(context, MAIN_MENU)
    token = _usable_token(context)  # only now: asking makes a CSRF cookie (see language_switch)
    if token is None:
        return _as_it_stands(context, MAIN_MENU)
    organisation = user.organisation
    shown = None if organisation is None else (organisation.slug, organisation.name)
    key = (get_language(), request.path, shown, user.is_manager, user.is_editor)
    html = _menus.get_or_make(
        key,
        lambda: render_to_string(
            MAIN_MENU,
            {
                "request": SimpleNamespace(path=request.path),
                "user": SimpleNamespace(
                    is_authenticated=True,
                    organisation=None
                    if shown is None
                    else SimpleNamespace(slug=shown[0], name=shown[1]),
                    is_manager=key[3],
                    is_editor=key[4],
                    display_name=NAME,
                ),
                "csrf_token": TOKEN,
            },
        ),
    )
    menu = with_token(html, token).replace(NAME, conditional_escape(user.display_name))
    return mark_safe(menu)  # noqa: S308 - our own rendered template, the name escaped


def _usable_token(context):
    """The request's CSRF token, or None where there is none (an error page rendered without)."""
    token = context.get("csrf_token")
    return None if not token or str(token) == "NOTPROVIDED" else token


def _as_it_stands(context, name: str):
    """Template `name` rendered in place with the page's context, as {% include %} would."""
    with context.push():
        return mark_safe(get_template(name).template.render(context))  # noqa: S308 - a rendered template
