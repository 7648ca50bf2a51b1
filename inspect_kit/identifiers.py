"""The identifier check: patterns of real identifiers (NHS numbers, dates of
birth, National Insurance numbers, local client ids) that must never be in
evidence, which is recorded by pseudonymous case reference only.

As SQL, so that the store flags a finding when its text is written (the
``identifier_flags`` triggers, :mod:`inspect_kit.schema`) and the lead's
question 13 lists the flagged ones.
"""

from __future__ import annotations

# The identifier check (question 13): patterns that look like a real person's
# identifier and must never reach an export. SQLite GLOB patterns, matched
# case-sensitively against evidence and evaluation text; each has a name the
# lead reads. The demo review's two planted records use "NHS no." followed by
# a ten-digit number (see inspect_kit.demo).
IDENTIFIER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("NHS number (10 digits)", "*[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*"),
    ("NHS number (3-3-4)", "*[0-9][0-9][0-9] [0-9][0-9][0-9] [0-9][0-9][0-9][0-9]*"),
    ("NHS number (3-3-4)", "*[0-9][0-9][0-9]-[0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]*"),
    ("NHS number mentioned", "*[Nn][Hh][Ss] [Nn][Oo]*"),
    ("NHS number mentioned", "*[Nn][Hh][Ss] [Nn]umber*"),
    ("Date of birth", "*[Dd][Oo][Bb][ :][0-9 ]*"),
    ("Date of birth", "*[Dd].[Oo].[Bb].*"),
    ("Date of birth", "*[Dd]ate of birth*"),
    ("National Insurance number", "*[A-Z][A-Z][0-9][0-9][0-9][0-9][0-9][0-9][A-D]*"),
    ("National Insurance number", "*[A-Z][A-Z] [0-9][0-9] [0-9][0-9] [0-9][0-9] [A-D]*"),
    ("Local authority client id", "*[Cc][Ll][Ii][Ee][Nn][Tt] [Ii][Dd]*"),
)


# Every identifier pattern needs a digit or one of these words (lower case):
# the identifier check tests for them first, which is cheap, then the patterns.
IDENTIFIER_HINT_WORDS = ("nhs", "dob", "d.o.b", "birth", "client id")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier_patterns_by_label() -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for label, glob in IDENTIFIER_PATTERNS:
        grouped.setdefault(label, []).append(glob)
    return grouped


def identifier_patterns_sql(text: str) -> str:
    """SQL: the names of the identifier patterns ``text`` (an SQL expression) matches,
    comma-separated ('' when none). A cheap test (a digit, or a word every pattern
    needs) comes first, so most texts never reach the GLOBs."""
    labels = " || ".join(
        f"CASE WHEN {' OR '.join(f'{text} GLOB {_quote(glob)}' for glob in globs)} THEN {_quote(label + ', ')}"
        " ELSE '' END"
        for label, globs in _identifier_patterns_by_label().items()
    )
    hint = " OR ".join([f"{text} GLOB '*[0-9]*'",
                        *(f"instr(lower({text}), {_quote(word)})" for word in IDENTIFIER_HINT_WORDS)])
    return f"CASE WHEN {hint} THEN rtrim({labels}, ', ') ELSE '' END"
