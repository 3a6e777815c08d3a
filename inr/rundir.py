"""Output directories that appear whole or not at all.

Every verb that makes a directory builds it as ``.NAME.partial`` beside
``NAME`` and renames it into place once complete. A failure (bad input, an
exception, Ctrl-C) removes the partial directory unless it holds what
``--resume`` needs (``marker``), and never touches an existing ``NAME``.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from inr.errors import InrError


def partial_path(out) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.partial"


def _resumable(path: Path, marker: str | None) -> bool:
    return marker is not None and path.is_dir() and any(path.glob(marker))


def resume_dir(out, marker: str) -> Path:
    """The directory ``--resume`` of ``out`` continues: its interrupted build,
    else ``out`` itself (a finished run, or one made before partial builds)."""
    out = Path(out)
    for path in (partial_path(out), out):
        if _resumable(path, marker):
            return path
    raise InrError(f"{out}: nothing to resume (no {marker})")


def _check_fresh(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InrError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InrError(f"{out}: already exists; pass --overwrite to replace it or --resume to continue it")
    if partial_path(out).exists() and not overwrite:
        raise InrError(f"{out}: an interrupted run is in {partial_path(out)}; pass --resume to continue it "
                       "or --overwrite to start again")


def check_output(out, *, overwrite: bool, resume: bool, marker: str | None) -> None:
    """Raise now, before any work, if :func:`building` would refuse ``out``."""
    if resume:
        resume_dir(out, marker)
    else:
        _check_fresh(Path(out), overwrite)


def _place(work: Path, out: Path) -> None:
    """Rename the finished ``work`` to ``out``, replacing an older ``out``."""
    if out.exists():
        old = out.parent / f".{out.name}.old{os.getpid()}"
        os.replace(out, old)
        os.replace(work, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, out)


@contextmanager
def building(out, *, overwrite: bool = False, resume: bool = False, marker: str | None = None,
             keep: str | None = None, owner: bool = True):
    """Yield the directory to write ``out``'s files into, and put it in place
    as ``out`` when the block completes.

    ``marker``: a glob (relative to the directory) of what ``--resume`` needs
    (a checkpoint); None for outputs that cannot resume. ``keep``: the glob
    whose match makes an unfinished build worth keeping (default ``marker``).
    ``owner``: this process creates, renames and cleans up (process 0 of a
    multi-process run; the others only write)."""
    out = Path(out)
    keep = keep or marker
    if owner:
        check_output(out, overwrite=overwrite, resume=resume, marker=marker)
    if resume:
        work = resume_dir(out, marker)
        if work == out:  # resumed in place: it was whole before and is whole after
            yield out
            return
    else:
        work = partial_path(out)
        if owner:
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
    try:
        yield work
    except BaseException:
        if owner and not _resumable(work, keep):
            shutil.rmtree(work, ignore_errors=True)
        raise
    if owner:
        _place(work, out)
