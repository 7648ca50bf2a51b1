"""Every `inspect-kit …` command named in a message, a template, a docstring
example or the README exists (messages once promised `user enable`,
which did not exist)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from inspect_kit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
QUOTED = re.compile(r"`(?:[\w./-]*/)?inspect-kit ([^`]+)`")
LINE = re.compile(r"^\s*(?:\w+=\$\()?inspect-kit ([^\n#)]+)", re.MULTILINE)


def mentions() -> list[tuple[str, str]]:
    found = []
    files = [*sorted((ROOT / "inspect_kit").rglob("*.py")), *sorted((ROOT / "templates").rglob("*.html")),
             ROOT / "README.md", ROOT / "Makefile"]
    for path in files:
        text = path.read_text()
        for pattern in (QUOTED, LINE):
            for match in pattern.finditer(text):
                found.append((str(path.relative_to(ROOT)), match.group(1).strip()))
    return found


def resolve(words: list[str]) -> click.Command | None:
    """The command the words name (a group and its subcommand), or None."""
    command: click.Command = cli
    for word in words:
        if not isinstance(command, click.Group):
            break
        if word.startswith("-") or word in ("…", "..."):
            break
        if word not in command.commands:
            return None
        command = command.commands[word]
    return command if command is not cli else None


def test_the_scan_finds_the_mentions_that_matter():
    found = {text for _, text in mentions()}
    assert any(text.startswith("user unlock") for text in found)
    assert any(text.startswith("cases import") for text in found)
    assert resolve(["user", "enable"]) is not None
    assert resolve(["user", "resurrect"]) is None and resolve(["frobnicate"]) is None


@pytest.mark.parametrize("where,text", sorted(set(mentions())))
def test_every_mentioned_command_exists(where, text):
    try:
        words = shlex.split(text.replace("\\", " "))
    except ValueError:
        words = text.split()
    assert resolve(words) is not None, f"{where} names `inspect-kit {text}`, which is not a command"
