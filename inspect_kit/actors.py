"""Who is acting: the account behind a request or a command.

Domain functions take an :class:`Actor` so that access rules and the audit
trail live in the library, not in views. The ``system`` actor is for set-up
commands run by an administrator at the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """An authenticated account.

    ``role`` is one of ``vocab.ACCOUNT_ROLES``; ``strand`` is the strand code of
    an inspector; ``inspector_id`` links to ``inspectors.id`` in the review.
    """

    username: str
    role: str
    strand: str | None = None
    inspector_id: int | None = None

    @property
    def reads_everything(self) -> bool:
        """Leads and moderators see and QA every strand's evidence."""
        return self.role in ("lead", "moderator")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_read_strand(self, strand_code: str) -> bool:
        """Inspectors see their own strand's findings; leads and moderators all."""
        return self.reads_everything or (self.role == "inspector" and self.strand == strand_code)


SYSTEM = Actor(username="system", role="admin")
