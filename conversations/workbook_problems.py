"""What a person is told about a file the bot could not read, or read only in part: in the chat
and, with the same words, on the upload page (which then keeps the link usable)."""

from __future__ import annotations

from conversations.answer_parsing import excerpt
from conversations.i18n import Tr
from conversations.uploaded_workbook import MAX_FILE_BYTES, UploadedWorkbook

# Problems of the file itself: the person can send another one (an upload link stays usable).
FILE_PROBLEMS = ("too_big", "not_xlsx", "unreadable", "too_large_inside", "too_many_cells",
                 "long_text", "damaged", "xml_dtd", "too_heavy")


def problem_text(tr: Tr, upload: UploadedWorkbook) -> str:
    """Why the file was not read, and what to send instead; nothing of it was saved."""
    name = excerpt(upload.file_name, 40)
    problem = upload.problem
    if problem == "too_big":
        return tr("The file is {size} MB; the bot can receive at most 20 MB. The report "
                  "template is much smaller: please send only that file.",
                  size=max(1, round((MAX_FILE_BYTES + 1) / (1024 * 1024))))
    if problem == "not_xlsx":
        return tr("I can only read Excel files (.xlsx): the report template (send /excel to "
                  "get it) filled in and sent back.")
    if problem == "unreadable":
        return tr("The file “{name}” could not be opened as an Excel workbook (it may be "
                  "damaged or protected by a password). Nothing was saved. Please save it "
                  "again in Excel and send it once more.", name=name)
    if problem == "too_large_inside":
        return tr("The file “{name}” holds far more data than a report (over 160 MB once "
                  "unpacked), so it was not read. Nothing was saved. Please send only the "
                  "report template, filled in.", name=name)
    if problem == "too_many_cells":
        return tr("The file “{name}” has too many cells to be a report (more than 16,384 in "
                  "a row or 1,000,000 in all), so it was not read. Nothing was saved. Please "
                  "send only the report template, filled in.", name=name)
    if problem == "long_text":
        return tr("A cell of the file “{name}” holds more text than Excel allows (32,767 "
                  "characters), so the file was not read. Nothing was saved. Please shorten "
                  "it, save the file in Excel and send it again.", name=name)
    if problem in ("damaged", "xml_dtd"):
        return tr("The file “{name}” is damaged: its contents are not written as Excel writes "
                  "them, so it was not read. Nothing was saved. Please open it in Excel, save "
                  "it again and send it once more.", name=name)
    if problem == "too_heavy":
        return tr("Reading the file “{name}” took too long, so it was stopped. Nothing was "
                  "saved. Please send only the report template, filled in.", name=name)
    return tr("The file could not be received. Nothing was saved; please send it again.")


def formulas_text(tr: Tr, upload: UploadedWorkbook) -> str:
    """Cells whose formula has no value Excel computed read as empty: say so, or a file of
    formulas would be answered "no figure was filled in" without a reason."""
    if not upload.formulas:
        return ""
    cells = ", ".join(excerpt(f, 40) for f in upload.formulas)
    if upload.formulas_unread > len(upload.formulas):
        cells += " …"
    return tr("Formulas were not read ({cells}): the file holds no values computed for them, "
              "so those cells count as empty. Please type the values instead, or open the "
              "file in Excel, save it (Excel stores the computed values) and send it again.",
              cells=cells)
