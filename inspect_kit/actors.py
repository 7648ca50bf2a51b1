"""Who is acting: the account behind a request or a command.

Domain functions take an :class:`Actor` so that access rules and the audit
trail live in the library, not in views. The ``system`` actor is for set-up
commands run at the terminal (see :data:`inspect_kit.policy.SYSTEM_ROLE`).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import policy


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

    # The access rules are in inspect_kit.policy; these ask it (kept for callers
    # not yet moved to policy.may and its predicates).

    @property
    def reads_everything(self) -> bool:
        """Reads every strand's findings (leads and moderators): :data:`policy.READ_ALL_FINDINGS`."""
        return policy.may(self, policy.READ_ALL_FINDINGS)

    @property
    def is_admin(self) -> bool:
        """Sets up the review and accounts: :data:`policy.ADMINISTER` (the terminal too)."""
        return policy.may(self, policy.ADMINISTER)

    def may_read_strand(self, strand_code: str) -> bool:
        """Reads findings of ``strand_code``: :func:`policy.finding_strands`."""
        strands = policy.finding_strands(self)
        return strands is True or (bool(strands) and strands == strand_code)


SYSTEM = Actor(username="system", role=policy.SYSTEM_ROLE)
