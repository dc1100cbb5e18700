"""Which Word template the consolidated report is rendered from.

Shipped templates live in `bot/exports/templates/`, one per form (named by the form's id:
`tuan-le-htsd.docx` for the seed 004 Week, `thang-khuyen-hoc.docx` for the seed 000 Month) and
`bao-cao.docx` for any other form. An office copies one, edits it in Word (heading, signer,
place, wording), and either names it in the campaign (`report: {template: …}`) or puts it,
under the same name, in the folder `BAOCAO_REPORT_TEMPLATE_DIR`.
"""

from __future__ import annotations

import logging
from pathlib import Path

TEMPLATES_DIR = Path(__file__).with_name("templates")
GENERIC = "bao-cao"

log = logging.getLogger(__name__)


def candidates(form_key: str) -> list[str]:
    """`tuan-le-htsd-truong` → tuan-le-htsd-truong, tuan-le-htsd, tuan-le, tuan: a school's
    version of a form takes the template of the form it derives from."""
    parts = [p for p in form_key.split("-") if p]
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _in(folder: Path, form_key: str) -> Path | None:
    for name in (*candidates(form_key), GENERIC):
        path = folder / f"{name}.docx"
        if path.is_file():
            return path
    return None


def choose_template(form_key: str, campaign_template: str = "", office_dir: str = "") -> str:
    """The template for a report of this form: the campaign's own, else the office's copy for
    the form, else the shipped one. A campaign template that is gone is logged and skipped."""
    if campaign_template:
        named = Path(campaign_template)
        for path in (named, TEMPLATES_DIR / named.name):
            if path.is_file():
                return str(path)
        log.warning("report template %s not found; using the office's or the shipped one",
                    campaign_template)
    if office_dir:
        found = _in(Path(office_dir), form_key)
        if found is not None:
            return str(found)
    found = _in(TEMPLATES_DIR, form_key)
    return str(found) if found is not None else str(TEMPLATES_DIR / f"{GENERIC}.docx")


def template_exists(name: str) -> bool:
    """A campaign's `report.template` names a file, or one of the shipped templates."""
    return Path(name).is_file() or (TEMPLATES_DIR / Path(name).name).is_file()
