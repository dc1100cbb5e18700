"""Keep the catalogs in step with the code: `python -m locales.catalog_tools` extracts every
`tr("…")` string (of the Python code and of the web console's Jinja templates) and merges it
into locales/<lang>/LC_MESSAGES/baocao.po."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = Path(__file__).resolve().parent
DOMAIN = "baocao"
SOURCES = ("conversations", "bot", "scheduler")
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def extract() -> Catalog:
    template = Catalog(domain=DOMAIN, project="baocao")
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            options_map={"**/templates/**.html": {"trim_blocks": "true",
                                                  "lstrip_blocks": "true"}},
            keywords={"tr": None, "plural": (1, 2)},
        ):
            template.add(message, locations=[(f"{source}/{filename}", lineno)],
                         auto_comments=comments, context=context)
    return template


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN)
    with path.open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def update(language: str) -> tuple[int, int]:
    """Merge the code's strings into one language's catalog; returns (total, untranslated)."""
    catalog = read_catalog(language)
    catalog.update(extract(), no_fuzzy_matching=True)
    catalog.fuzzy = False
    catalog.project, catalog.version = "baocao", "1"
    # A fixed header, no source locations and msgids in order: branches that add strings
    # merge without touching each other's lines.
    catalog.creation_date = catalog.revision_date = STABLE_DATE
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True,
                 no_location=True, ignore_obsolete=True, include_previous=False)
    untranslated = sum(1 for m in catalog if m.id and not (
        all(m.string) if isinstance(m.string, tuple) else m.string))
    return len([m for m in catalog if m.id]), untranslated


if __name__ == "__main__":
    for lang in ("vi", "en"):
        total, missing = update(lang)
        print(f"{lang}: {total} messages, {missing} untranslated")
