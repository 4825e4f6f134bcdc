"""The ``i2pa`` command line: ``i2pa <verb> --help`` explains every option.

Exit codes: 0 on success, 2 on a user error (bad arguments, bad input file, bad parameter);
errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from i2pa_core.cli.common import EXIT_OK, EXIT_USER_ERROR, UserError
from i2pa_core.config import ConfigError



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="i2pa", description="Intrinsic Image Popularity Assessment: the whole paper as "
        "software (Ding, Ma, Wang, ACM MM 2019).",
        epilog="Run 'i2pa VERB --help' for the options of each verb.")
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
        return int(args.run(args) or EXIT_OK)
    except (UserError, ConfigError, PostsFormatError, PairListError, FileNotFoundError) as exc:
        print(f"i2pa {args.verb}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"i2pa {args.verb}: interrupted", file=sys.stderr)
        return 130
