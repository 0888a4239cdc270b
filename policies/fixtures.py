"""Reading the handbook's fixture files: Markdown bodies with TOML front matter between +++ lines."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


class FixtureError(ValueError):
    pass


@dataclass(frozen=True)
class Document:
    meta: dict
    body: str


def read_document(path: Path) -> Document:
    """Split a fixture file into its TOML front matter and its Markdown body."""
    text = path.read_text(encoding="utf-8")
    parts = text.split("+++\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise FixtureError(f"{path}: expected front matter between '+++' lines")
    try:
        meta = tomllib.loads(parts[1])
    except tomllib.TOMLDecodeError as exc:
        raise FixtureError(f"{path}: {exc}") from exc
    return Document(meta=meta, body=parts[2].strip() + "\n")


def read_toml(path: Path) -> dict:
    """A TOML fixture file (organisations, units, demo people) as a dict."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


def version_files(policy_dir: Path) -> list[tuple[int, Path]]:
    """The numbered version files of a policy folder (1.md, 2.md, ...), in order."""
    files = [(int(p.stem), p) for p in policy_dir.glob("*.md") if p.stem.isdigit()]
    return sorted(files)
