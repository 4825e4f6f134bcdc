"""The ``i2pa`` command line: ``i2pa <verb> --help`` explains every option.

Exit codes: 0 on success, 2 on a user error (bad arguments, bad input file, bad parameter);
errors are one clear line on stderr, never a traceback. Output piped into a reader that stops
early (``i2pa score photos/ | head``) ends the run quietly with exit code 0.
"""

from __future__ import annotations

import argparse
import os
import sys

from i2pa_core.cli.common import EXIT_OK, EXIT_USER_ERROR, UserError
from i2pa_core.config import ConfigError


class HelpFormatter(argparse.HelpFormatter):
    """Wraps each line of a description or epilog on its own, so examples keep their lines."""

    def _fill_text(self, text, width, indent):
        return "\n".join(indent + line if line[:1].isspace() else
                         super(HelpFormatter, self)._fill_text(line, width, indent)
                         for line in text.splitlines())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("i2pa")
    except PackageNotFoundError:  # run from a checkout without installing
        return "unknown (not installed)"


class Parser(argparse.ArgumentParser):
    """An argument parser with :class:`HelpFormatter`; its sub-parsers are Parsers too
    (``add_subparsers`` makes them of the parser's own class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="i2pa", description="Intrinsic Image Popularity Assessment: the whole paper as "
        "software (Ding, Ma, Wang, ACM MM 2019).",
        epilog="Run 'i2pa VERB --help' for the options of each verb.")
    parser.add_argument("--version", action="version", version=f"i2pa {_version()}",
                        help="print the package version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    from i2pa_core.cli import data as cli_verbs

    for register in cli_verbs.REGISTER:
        register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from i2pa_core.io.pair_list import PairListError
    from i2pa_core.io.posts import PostsFormatError

    try:
        code = int(args.run(args) or EXIT_OK)
        sys.stdout.flush()
        return code
    except (UserError, ConfigError, PostsFormatError, PairListError, FileNotFoundError) as exc:
        print(f"i2pa {args.verb}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader closed the pipe (| head): what it wanted was written. Point stdout at
        # devnull so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"i2pa {args.verb}: interrupted", file=sys.stderr)
        return 130
