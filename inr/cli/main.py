"""The ``inr`` command: verbs and positional inputs first, options after.
Each group of verbs lives in its own module with a ``register(subparsers)``;
the flags they share are built in inr/cli/common.py."""
from __future__ import annotations

import os
import sys

from inr.cli import collection, diffusion, single, weights
from inr.cli.common import EXIT_DIVERGED, EXIT_USER_ERROR, Parser
from inr.errors import DivergedError, InrError

VERB_GROUPS = (single, collection, weights, diffusion)
"""modules whose ``register`` adds their verbs, in the order ``inr --help`` lists them"""


def build_parser() -> Parser:
    parser = Parser(prog="inr", description="Fit, render and inspect neural fields.")
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=Parser)
    for group in VERB_GROUPS:
        group.register(sub)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DivergedError as err:
        print(f"inr: {err}", file=sys.stderr)
        return EXIT_DIVERGED
    except InrError as err:
        print(f"inr: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("inr: interrupted; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
