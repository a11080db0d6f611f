"""One exception type for everything a learner can fix: its message is one line that says what and how."""


class LabError(Exception):
    """A problem with a known fix. The CLI prints it as one line; notebooks show it without a traceback."""
