"""A small real filesystem that can be filled up: a tmpfs mounted for one test.

Tests run as root here and in CI, so ``mount -t tmpfs`` works; where it is
refused (an unprivileged container) the test is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FILLER = "filler.bin"
CHUNK = 64 * 1024


@contextlib.contextmanager
def small_disk(mount_point: Path, size: str = "8M", *options: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``mount_point`` for the block (with mount ``options`` such as
    ``"ro"``); unmount afterwards."""
    mount_point.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command: cannot make a small filesystem to fill")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs",
                             str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused ({result.stderr.strip() or result.returncode}): the disk-full "
                    "tests need root (they run as root in CI)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)


def fill(directory: Path, leave: int = 0) -> Path:
    """Fill the filesystem holding ``directory`` with a filler file, leaving about ``leave`` bytes free."""
    path = directory / FILLER
    with open(path, "ab", buffering=0) as handle:
        while True:
            free = shutil.disk_usage(directory).free
            if free <= leave:
                break
            try:
                handle.write(b"\0" * min(CHUNK, max(free - leave, 1)))
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                break
        with contextlib.suppress(OSError):
            os.fsync(handle.fileno())
    return path


def copy_store(source: Path, destination: Path) -> None:
    """Copy a store folder (its databases checkpointed) onto the small disk."""
    shutil.copytree(source, destination)
