"""What every ``inspect-kit`` command shares: the group that turns domain
errors into one-line messages, ``--home``, ``--review``, ``--as`` and writing
an output file. The command modules import this; nothing here imports them.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ..actors import SYSTEM, Actor
from ..errors import InspectKitError
from ..store import HOME_ENV, Store


class InspectKitGroup(click.Group):
    """A group that turns domain exceptions into ``click.ClickException``."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InspectKitError as error:
            raise click.ClickException(error.message) from error


def home_option(command):
    """Add ``--home DIR`` and pass the command a :class:`Store` as ``store``."""

    def to_store(ctx, param, value):
        return Store(Path(value))

    return click.option(
        "--home",
        "store",
        envvar=HOME_ENV,
        default="evidence",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        callback=to_store,
        help=f"The evidence store folder (or set ${HOME_ENV}).",
    )(command)


def acting_actor(store: Store, evidence_db, username: str | None, review_id: int) -> Actor:
    """The account acting: ``--as USERNAME``, or the operator at the terminal (:data:`~inspect_kit.actors.SYSTEM`)."""
    if not username:
        return SYSTEM
    from ..accounts import actor_for, get_account

    with contextlib.closing(store.private()) as private_db:
        account = get_account(private_db, username)
    if account.get("disabled"):
        raise click.ClickException(f"The account {username} is disabled.")
    return actor_for(account, evidence_db, review_id)


@contextlib.contextmanager
def writing(output: Path):
    """Turn a file that cannot be written (no such folder, no permission, disk
    full) into a one-line message instead of a traceback."""
    try:
        yield
    except OSError as error:
        raise click.ClickException(f"Could not write {output}: {error.strerror or error}.") from None


def review_option(function):
    """Add ``--review SLUG`` (default: the latest review)."""
    return click.option("--review", "review_slug", metavar="SLUG",
                        help="The review (default: the latest created).")(function)


# Below this much reading, a check or backup is over in well under a second
# (sha256 ran at about 1.1 GB/s on these machines): no progress bar.
PROGRESS_MIN_BYTES = 200_000_000


class ByteProgress:
    """A progress bar on stderr for reading attachments, shown only when there is a lot to read."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_MIN_BYTES:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
