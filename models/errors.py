"""The one exception a refused change raises, whether a workflow refuses it or a rule the
models hold (models/guards.py): its message is Russian and is shown to the user as is."""

from __future__ import annotations


class WorkflowError(Exception):
    """A refused action; str(error) is shown to the user as is, next to `field` if given."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
