"""The one exception workflows raise for a refused action: its message is Russian.

It is defined with the models (models/errors.py), whose own rules (the closed-case
guard) refuse with it too, so a page that catches it catches every refusal.
"""

from models.errors import WorkflowError

__all__ = ["WorkflowError"]
