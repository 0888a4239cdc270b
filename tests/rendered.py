"""Rendering a template tag beside the partial it keeps per process, for comparing the two."""

from __future__ import annotations

from django.template import engines
from django.test import RequestFactory
from django.utils import translation


def side_by_side(source: str, path: str, user, language: str = "nb") -> tuple[str, str]:
    """`source` ("<the partial>|<the tag>") rendered for a request to `path` by `user`, split at
    the bar: the partial rendered in place, and what the tag gives."""
    request = RequestFactory().get(path)
    request.user = user
    with translation.override(language):
        html = engines["django"].from_string(source).render({}, request)
    included, tagged = html.split("|")
    return included, tagged
