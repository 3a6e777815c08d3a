"""The one exception type the CLI turns into a clean one-line message."""


class InrError(Exception):
    """A user-facing error: bad input, bad config, bad file.

    The CLI prints ``str(err)`` on one line and exits with code 2, so the
    message must name the file or option and the problem.
    """


class DivergedError(InrError):
    """Training produced a non-finite loss or parameters."""
