"""`urls/` is the one source of the public addresses: nothing else spells a path out by hand."""

import ast
import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from people.models import RESERVED_SLUGS

ROOT = Path(__file__).resolve().parent.parent

# The first path segments the site itself uses (an organisation can never take one of them).
SITE_SEGMENTS = re.compile(rf"^/({'|'.join(map(re.escape, RESERVED_SLUGS))})(/|$)")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def hand_built_paths(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string in `source` that spells out a site address by hand.

    A literal starting with one of the site's own first segments ("/oversikt/"); an f-string
    starting with "/" that puts a slug in ("/{org.slug}/..."); or path text glued onto another
    address ("{policy.get_absolute_url()}versjon/"). Docstrings are prose, not addresses.
    """
    tree = ast.parse(source)
    skip = _docstrings(tree)
    # The text pieces of an f-string are judged with the f-string, not on their own.
    skip |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if SITE_SEGMENTS.match(node.value):
                found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = ast.unparse(node)
            parts = node.values
            first = parts[0] if parts else None
            starts_with_slash = isinstance(first, ast.Constant) and str(first.value).startswith("/")
            glued = any(
                isinstance(part, ast.FormattedValue)
                and "get_absolute_url" in ast.unparse(part.value)
                and isinstance(after, ast.Constant)
                and re.match(r"[\w?]", str(after.value))
                for part, after in zip(parts, parts[1:], strict=False)
            )
            slug_path = starts_with_slash and any(
                isinstance(part, ast.FormattedValue) and "slug" in ast.unparse(part.value)
                for part in parts
            )
            if glued or slug_path or (starts_with_slash and SITE_SEGMENTS.match(str(first.value))):
                found.append((node.lineno, text))
    return found


TEMPLATE_PATTERNS = [
    re.compile(r"""(?:href|action|src)=["']/"""),
    re.compile(r"get_absolute_url\s*\}\}[\w?]"),
]


def _template_offences(paths) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in TEMPLATE_PATTERNS):
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
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in sources
        for line, text in hand_built_paths(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_templates_build_addresses_with_the_url_tag_not_by_hand():
    templates = list((ROOT / "templates").rglob("*.html")) + list(
        (ROOT / "templates").rglob("*.txt")
    )
    assert templates
    assert _template_offences(templates) == []


def test_the_checks_catch_what_they_are_meant_to_catch():
    python = (
        'a = f"/{org.slug}/{policy.slug}/"\nb = "/oversikt/"\nc = f"{p.get_absolute_url()}versjon/"\n'
        'd = f"/redaksjon/{x}/"\n'
        # Not addresses: a separator, a unit's materialised path, prose in a docstring.
        'e = "/".join(parts)\nf = f"/{unit.pk}/"\n'
        'def g():\n    """An example: <img src="/oversikt/x">."""\n'
    )
    assert [line for line, _ in hand_built_paths(python)] == [1, 2, 3, 4]
    lines = '<a href="/meg/">\n<form action="{{ p.get_absolute_url }}bekreft/">\n<a href="{% url \'me\' %}">'
    assert [
        p.search(line) is not None for line in lines.splitlines() for p in TEMPLATE_PATTERNS[:1]
    ] == [
        True,
        False,
        False,
    ]
    assert TEMPLATE_PATTERNS[1].search(lines.splitlines()[1])


def test_the_markdownx_settings_point_at_the_routed_endpoints():
    # Settings cannot call reverse() (the URLconf imports views that import settings).
    assert reverse("markdownx_markdownify") == settings.MARKDOWNX_URLS_PATH
    assert reverse("markdownx_upload") == settings.MARKDOWNX_UPLOAD_URLS_PATH
