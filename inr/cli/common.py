"""What every verb of the ``inr`` command shares: one-line usage errors, exit
codes, and one builder per kind of common flag, so that ``--config``,
``--set``, ``--out``, ``--overwrite`` / ``--resume`` and ``--quiet`` read the
same on every verb."""
from __future__ import annotations

import argparse

from inr.errors import InrError

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on one line with exit code 2."""

    def error(self, message):
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


def add_config(parser, config_help: str = "YAML config (repeatable, applied in order)",
               set_help: str = "override one config key, e.g. train.lr=1e-3") -> None:
    """``--config FILE`` (repeatable) and ``--set KEY=VALUE`` (repeatable)."""
    parser.add_argument("--config", action="append", metavar="FILE", help=config_help)
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help=set_help)


def add_out(parser, metavar: str, help: str, *, resume: bool = True, required: bool = True) -> None:
    """``--out`` and ``--overwrite`` (and, for verbs that checkpoint, ``--resume``, exclusive with it)."""
    parser.add_argument("--out", required=required, metavar=metavar, help=help)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help=f"replace an existing {metavar}")
    if resume:
        mode.add_argument("--resume", action="store_true", help=f"continue {metavar} from its last checkpoint")


def add_quiet(parser) -> None:
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no status lines (a result the verb prints is still printed)")


def no_config_on_resume(args, what: str = "the run's saved config.yaml", extra: tuple = ()) -> None:
    """``--resume`` continues with the saved config: a one-line error if any config flag is given too."""
    given = [flag for flag, value in (("--config", args.config), ("--set", args.set), *extra) if value]
    if getattr(args, "resume", False) and given:
        raise InrError(f"--resume continues with {what}; drop {', '.join(given)}")


def parse_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` -> (height, width)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InrError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1024x768") from None
    if w < 1 or h < 1:
        raise InrError(f"--size {text!r}: width and height must be positive")
    return h, w


def parse_indices(text: str) -> list[int]:
    """``0,5,10-19`` -> [0, 5, 10, ..., 19]."""
    out = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.partition("-")
            out.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    except ValueError:
        raise InrError(f"--indices {text!r}: expected numbers and ranges, e.g. 0,5,10-19") from None
    return out
