"""Judgement frameworks as data files (TOML), validated before use.

The shipped frameworks live in ``inspect_kit/frameworks/``; a user may pass
the path of their own file. The format is documented in that folder's README.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import vocab
from .errors import FrameworkError

FORMAT = "inspect-kit-framework/1"
SHIPPED_DIR = Path(__file__).parent / "frameworks"
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CRITERION_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]*$")


@dataclass(frozen=True)
class Criterion:
    code: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class Area:
    code: str
    title: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Framework:
    code: str
    title: str
    graded: bool
    grades: tuple[tuple[int, str], ...]
    areas: tuple[Area, ...]
    review_types: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def criteria(self) -> list[Criterion]:
        return [criterion for area in self.areas for criterion in area.criteria]


def list_frameworks() -> list[Framework]:
    """Every shipped framework, sorted by code."""
    return sorted((load_framework(path) for path in SHIPPED_DIR.glob("*.toml")), key=lambda f: f.code)


def load_framework(code_or_path: str | Path) -> Framework:
    """Load a shipped framework by code, or any framework file by path.

    :raises FrameworkError: naming the file, the place and the fault when the
        file is missing, not TOML, or does not follow the format.
    """
    path = Path(code_or_path)
    if not path.suffix:
        shipped = SHIPPED_DIR / f"{code_or_path}.toml"
        if not shipped.exists():
            known = ", ".join(sorted(p.stem for p in SHIPPED_DIR.glob("*.toml")))
            raise FrameworkError(f"No framework called {code_or_path!r}. Shipped frameworks: {known}; or give a .toml path.")
        path = shipped
    if not path.exists():
        raise FrameworkError(f"{path}: file not found.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FrameworkError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(f"{path}: not valid TOML: {exc}.") from exc
    return parse_framework(document, source=str(path))


def parse_framework(document: dict, *, source: str = "<framework>") -> Framework:
    """Validate a parsed framework document and build a :class:`Framework`.

    :raises FrameworkError: ``"SOURCE: PLACE: fault"`` for the first fault found.
    """

    def fail(place: str, message: str) -> FrameworkError:
        return FrameworkError(f"{source}: {place}: {message}")

    def text(table: dict, key: str, place: str, required: bool = True) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise fail(place + key, "missing; it must be a non-empty string.")
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(place + key, f"must be a non-empty string, not {value!r}.")
        return value.strip()

    if document.get("format") != FORMAT:
        raise fail("format", f'must be "{FORMAT}" (found {document.get("format")!r}).')
    code = text(document, "code", "")
    if not CODE_RE.match(code):
        raise fail("code", f"{code!r} must use lowercase letters, digits and hyphens.")
    title = text(document, "title", "")
    graded = document.get("graded")
    if not isinstance(graded, bool):
        raise fail("graded", "missing or not true/false.")
    review_types = document.get("review_types", [])
    if not isinstance(review_types, list) or any(t not in vocab.REVIEW_TYPES for t in review_types):
        raise fail("review_types", f"must be a list drawn from {', '.join(vocab.REVIEW_TYPES)}.")

    grades: list[tuple[int, str]] = []
    raw_grades = document.get("grades", [])
    if graded and not raw_grades:
        raise fail("grades", "a graded framework needs at least one [[grades]] entry.")
    if not graded and raw_grades:
        raise fail("grades", "an ungraded framework (graded = false) must not list grades.")
    for i, grade in enumerate(raw_grades, 1):
        place = f"grades[{i}]."
        if not isinstance(grade, dict):
            raise fail(f"grades[{i}]", "must be a [[grades]] table.")
        value = grade.get("grade")
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(place + "grade", f"must be an integer, not {value!r}.")
        if value in dict(grades):
            raise fail(place + "grade", f"grade {value} appears twice.")
        grades.append((value, text(grade, "label", place)))

    raw_areas = document.get("areas")
    if not isinstance(raw_areas, list) or not raw_areas:
        raise fail("areas", "at least one [[areas]] table is required.")
    areas: list[Area] = []
    area_codes: set[str] = set()
    criterion_codes: set[str] = set()
    for i, area in enumerate(raw_areas, 1):
        place = f"areas[{i}]."
        area_code = text(area, "code", place)
        if area_code in area_codes:
            raise fail(place + "code", f"area code {area_code!r} appears twice.")
        area_codes.add(area_code)
        raw_criteria = area.get("criteria")
        if not isinstance(raw_criteria, list) or not raw_criteria:
            raise fail(place + "criteria", "each area needs at least one [[areas.criteria]] table.")
        criteria = []
        for j, criterion in enumerate(raw_criteria, 1):
            cplace = f"{place}criteria[{j}]."
            ccode = text(criterion, "code", cplace)
            if not CRITERION_CODE_RE.match(ccode):
                raise fail(cplace + "code", f"{ccode!r} must use letters, digits and dots.")
            if ccode in criterion_codes:
                raise fail(cplace + "code", f"criterion code {ccode!r} appears twice in the framework.")
            criterion_codes.add(ccode)
            criteria.append(Criterion(ccode, text(criterion, "title", cplace), text(criterion, "description", cplace, False)))
        areas.append(Area(area_code, text(area, "title", place), tuple(criteria)))
    return Framework(code, title, graded, tuple(grades), tuple(areas), tuple(review_types), source)
