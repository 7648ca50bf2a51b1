"""The README's commands still run, and it mentions every command.

A ```bash block preceded by a ``<!-- tested ... -->`` comment is run here,
line by line, in a temporary folder with ``INSPECT_KIT_HOME`` pointing into
it. Every line of such a block must be an ``inspect-kit`` command (``\\``
continues a line); a password prompt gets one on standard input.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from inspect_kit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TESTED_BLOCK = re.compile(r"<!-- tested[^>]*-->\s*\n```bash\n(.*?)\n```", re.DOTALL)
PASSWORD = "a fictional passphrase for the readme"


def readme_commands(text: str) -> list[str]:
    commands = []
    for block in TESTED_BLOCK.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def leaf_commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield " ".join(("inspect-kit", *path, name))


def test_readme_has_readme_commands():
    commands = readme_commands(README.read_text())
    assert len(commands) >= 5
    assert all(command.startswith("inspect-kit ") for command in commands), commands


@pytest.mark.parametrize("command", sorted(leaf_commands()))
def test_readme_mentions_every_command(command):
    assert command in README.read_text(), f"README.md does not show `{command}`"


@pytest.mark.slow
def test_readme_commands_run(tmp_path):
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "INSPECT_KIT_HOME": str(tmp_path / "evidence"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    for command in readme_commands(README.read_text()):
        argv = shlex.split(command)
        assert (bin_dir / argv[0]).exists(), f"{argv[0]} is not installed next to {sys.executable}"
        result = subprocess.run(
            argv, cwd=tmp_path, env=env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"`{command}` failed:\n{result.stdout}\n{result.stderr}"


def test_readme_lists_the_demo_accounts():
    from inspect_kit.demo.data import ACCOUNTS, DEMO_PASSWORD

    text = README.read_text()
    assert f"**`{DEMO_PASSWORD}`**" in text
    for account in ACCOUNTS:
        assert f"`{account.username}`" in text, f"README.md does not list the demo account {account.username}"
        if account.inspector_code:
            assert account.inspector_code[:4] in text
