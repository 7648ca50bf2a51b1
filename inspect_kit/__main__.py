"""``python -m inspect_kit`` runs the ``inspect-kit`` command line."""

from .cli import cli

if __name__ == "__main__":
    cli(prog_name="inspect-kit")
