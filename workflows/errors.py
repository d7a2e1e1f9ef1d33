"""The one exception workflows raise for a refused action: its message is Russian."""


class WorkflowError(Exception):
    """A refused action; str(error) is shown to the user as is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
