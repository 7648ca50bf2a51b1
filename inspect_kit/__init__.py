"""inspect_kit: structured evidence for joint inspections of children's safeguarding services."""

__version__ = "0.1.0"
