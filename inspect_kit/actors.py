"""Who is acting: the account behind a request or a command.

Domain functions take an :class:`Actor` so that access rules and the audit
trail live in the library, not in views. The ``system`` actor is for set-up
commands run at the terminal (see :data:`inspect_kit.policy.SYSTEM_ROLE`).
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


# The operator at the terminal: the role :data:`inspect_kit.policy.SYSTEM_ROLE`, which holds
# every permission. Who may do what is asked of inspect_kit.policy, never of the actor.
SYSTEM = Actor(username="system", role="system")
