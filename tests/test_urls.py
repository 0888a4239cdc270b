"""`urls/` is the one source of the public addresses: nothing else spells a path out by hand."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent

# A string literal that starts a site path ("/oversikt/", f"/{org}/..."), or an address made by
# gluing path text onto another address.
PYTHON_PATTERNS = [
    re.compile(r"""(?<![\w"'])[fFrRbBuU]{0,2}["']/[a-zæøå{]"""),
    re.compile(r"get_absolute_url\(\)\}[\w?]"),
]
TEMPLATE_PATTERNS = [
    re.compile(r"""(?:href|action|src)=["']/"""),
    re.compile(r"get_absolute_url\s*\}\}[\w?]"),
]


def _offences(paths, patterns) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in patterns):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_python_code_builds_addresses_with_reverse_not_by_hand():
    sources = [
        p
        for app in ("policies", "people", "handbook")
        for p in (ROOT / app).rglob("*.py")
        if "migrations" not in p.parts and p.name != "settings.py"
    ]
    assert sources
    assert _offences(sources, PYTHON_PATTERNS) == []


def test_templates_build_addresses_with_the_url_tag_not_by_hand():
    templates = list((ROOT / "templates").rglob("*.html")) + list(
        (ROOT / "templates").rglob("*.txt")
    )
    assert templates
    assert _offences(templates, TEMPLATE_PATTERNS) == []


def test_the_patterns_catch_what_they_are_meant_to_catch(tmp_path):
    python = tmp_path / "x.py"
    python.write_text(
        'a = f"/{org}/{slug}/"\nb = "/oversikt/"\nc = f"{p.get_absolute_url()}versjon/"\n'
        'd = "/".join(parts)\ne = f"{parent.path if parent else \'/\'}{pk}/"\n'
    )
    template = tmp_path / "x.html"
    template.write_text('<a href="/meg/">\n<form action="{{ p.get_absolute_url }}bekreft/">\n')
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(_offences([python], PYTHON_PATTERNS)) == 3
        assert len(_offences([template], TEMPLATE_PATTERNS)) == 2
    finally:
        ROOT = saved


def test_the_markdownx_settings_point_at_the_routed_endpoints():
    # Settings cannot call reverse() (the URLconf imports views that import settings).
    assert reverse("markdownx_markdownify") == settings.MARKDOWNX_URLS_PATH
    assert reverse("markdownx_upload") == settings.MARKDOWNX_UPLOAD_URLS_PATH
