"""Plain words typed into a search box, as a full-text (FTS5) query that cannot fail.

FTS5 reads its MATCH argument as a query language: ``child's``, ``non-accidental``,
``A&E``, ``C-017``, ``1.00`` or a lone ``"`` are syntax errors there (441 of 613
hostile test strings were). :func:`phrase_query` turns whatever was typed into
a query of quoted phrases, one per word, all required: ``non-accidental
injury`` becomes ``"non-accidental" "injury"``. Text the reader put in double
quotes stays one phrase (``"strategy discussion"`` finds the two words side by
side). Inside a phrase FTS5's tokenizer splits ``non-accidental`` into
``non accidental`` side by side, so the words are found as written; a word of
punctuation only becomes an empty phrase, which FTS5 ignores. Text with no
word at all gives ``""``, which matches nothing.

:func:`register` adds the SQL function ``ik_fts_phrase(text)`` to a connection,
so SQL reads ``… MATCH ik_fts_phrase(:search)``; every connection the store
opens has it (:func:`inspect_kit.store.connect`), and so has Datasette's
(the plugin's ``prepare_connection``).
"""

from __future__ import annotations

import re
import sqlite3

SQL_FUNCTION = "ik_fts_phrase"

# A double-quoted stretch (a phrase the reader meant), or a run of anything but
# whitespace and double quotes (a word).
_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
# NUL ends a string inside FTS5's parser ("unterminated string"); other control
# characters are no words either.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def phrase_query(text: str | None) -> str:
    """The FTS5 query finding every word (and every quoted phrase) of ``text``.

    Always a valid FTS5 query: each term is a double-quoted string with no
    quote inside. ``None`` or text without terms gives ``""`` (matches nothing).
    """
    if not text:
        return '""'
    text = _CONTROL.sub(" ", str(text))
    phrases = []
    for quoted, word in _TERM.findall(text):
        term = (quoted if quoted else word).strip()
        if term:
            phrases.append(f'"{term}"')
    return " ".join(phrases) or '""'


def register(conn: sqlite3.Connection) -> None:
    """Add ``ik_fts_phrase(text)`` (:func:`phrase_query`) to ``conn``."""
    conn.create_function(SQL_FUNCTION, 1, phrase_query, deterministic=True)
