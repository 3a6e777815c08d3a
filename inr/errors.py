"""The one exception type the CLI turns into a clean one-line message."""
from __future__ import annotations

from pathlib import Path


class InrError(Exception):
    """A user-facing error: bad input, bad config, bad file.

    The CLI prints ``str(err)`` on one line and exits with code 2, so the
    message must name the file or option and the problem.
    """


class DivergedError(InrError):
    """Training produced a non-finite loss or parameters."""


def existing_file(path) -> Path:
    """``path`` as a Path, or an InrError naming it if it is missing or not a file."""
    path = Path(path)
    if not path.exists():
        raise InrError(f"{path}: file not found")
    if not path.is_file():
        raise InrError(f"{path}: not a file")
    return path
