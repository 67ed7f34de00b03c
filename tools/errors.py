"""The tools' one error type: a failure a technician can act on (a mistake, a missing
file, a hub or fleet that does not answer). `portineria` prints its message as one
sentence, `portineria: …`, and exits 1; anything else is a bug."""


class ToolError(Exception):
    """The message is the whole story: one sentence, no traceback."""
