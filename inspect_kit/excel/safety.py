"""Checks on an uploaded workbook *before* openpyxl opens it.

A workbook is refused, with a message saying what to do, when it is not an
``.xlsx`` file (an old ``.xls``, a CSV, a Word file…), when it is
password-protected (Excel then saves an encrypted OLE compound file, not a
zip), or when it looks like a decompression bomb: too many parts, too many
uncompressed bytes in total, or a part that expands more than the allowed
ratio. Python's ``zipfile`` never returns more bytes than a member's declared
size, so checking the declared sizes bounds what openpyxl will inflate.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InspectKitError

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
MiB = 1024 * 1024


class WorkbookRefused(InspectKitError):
    """The file as a whole cannot be imported; nothing was stored."""

    status = 400


@dataclass(frozen=True)
class ImportLimits:
    """Configured limits for an imported workbook."""

    max_rows: int = 10_000
    max_file_bytes: int = 50 * MiB
    max_uncompressed_bytes: int = 500 * MiB
    max_ratio: float = 200.0
    max_parts: int = 2_000
    # Small parts compress very well when they are mostly repeated markup;
    # only parts bigger than this are held to max_ratio.
    ratio_floor_bytes: int = 1 * MiB


def check_workbook_file(path: Path | str, limits: ImportLimits | None = None, *, name: str | None = None) -> None:
    """Refuse anything that is not a plain, reasonably sized ``.xlsx`` workbook.

    ``name`` is the file name to show in messages (the upload's name).

    :raises WorkbookRefused: with a message naming the fault and the remedy.
    """
    path = Path(path)
    limits = limits or ImportLimits()
    shown = name or path.name
    size = path.stat().st_size
    if size == 0:
        raise WorkbookRefused(f"{shown} is empty. Choose the workbook you filled in.")
    if size > limits.max_file_bytes:
        raise WorkbookRefused(f"{shown} is {size / MiB:.1f} MiB; workbooks up to {limits.max_file_bytes / MiB:.0f} MiB "
                              "can be imported. Split it into smaller workbooks.")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head == OLE_MAGIC:
        if _is_encrypted_ole(path):
            raise WorkbookRefused(
                f"{shown} is password-protected, so it cannot be checked. Open it in Excel, remove the password "
                "(File → Info → Protect Workbook → Encrypt with Password, clear it), save and upload it again.")
        raise WorkbookRefused(f"{shown} is an old Excel 97–2003 (.xls) file. Open it in Excel and save it as an "
                              "Excel Workbook (.xlsx), or start from a new capture template.")
    if head[:4] != ZIP_MAGIC or not zipfile.is_zipfile(path):
        raise WorkbookRefused(f"{shown} is not an Excel workbook (.xlsx). Save it from Excel as 'Excel Workbook "
                              "(.xlsx)' and upload it again.")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkbookRefused(f"{shown} is damaged and cannot be opened ({error}).") from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise WorkbookRefused(f"{shown} is a zip file but not an Excel workbook (.xlsx). Save it from Excel as "
                              "'Excel Workbook (.xlsx)'.")
    if any(member.flag_bits & 0x1 for member in members):
        raise WorkbookRefused(f"{shown} is password-protected (encrypted parts). Remove the password and save "
                              "it again.")
    if len(members) > limits.max_parts:
        raise WorkbookRefused(f"{shown} has {len(members):,} parts (at most {limits.max_parts:,} allowed): "
                              "it does not look like a capture workbook.")
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise WorkbookRefused(
            f"{shown} would expand to {total / MiB:,.0f} MiB (at most {limits.max_uncompressed_bytes / MiB:,.0f} "
            "MiB allowed): refused as a possible decompression bomb. Split it into smaller workbooks.")
    for member in members:
        if member.file_size <= limits.ratio_floor_bytes:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_ratio:
            raise WorkbookRefused(
                f"{shown}: part {member.filename} expands {ratio:,.0f} times (at most {limits.max_ratio:,.0f} "
                "allowed): refused as a possible decompression bomb.")


def _is_encrypted_ole(path: Path) -> bool:
    """True when an OLE compound file holds an Office ``EncryptionInfo`` stream.

    Directory entry names are UTF-16LE. The file is already known to be within
    ``max_file_bytes``, so it is read whole.
    """
    return "EncryptionInfo".encode("utf-16-le") in path.read_bytes()
