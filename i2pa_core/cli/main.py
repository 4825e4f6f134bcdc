"""The ``i2pa`` command line: ``i2pa <verb> --help`` explains every option.

Exit codes: 0 on success, 2 on a user error (bad arguments, bad input file, bad parameter);
errors are one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from i2pa_core.config import ConfigError, from_mapping, load_params

EXIT_OK, EXIT_USER_ERROR = 0, 2


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit code 2."""


def _overrides(pairs: list[str] | None) -> dict:
    """Parse ``--set key=value`` items; values are read as YAML scalars (1, 0.5, true, text)."""
    out = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def _section(args, name: str) -> dict:
    """The ``name`` section of ``--params`` (if given), updated by ``--set`` and explicit flags.

    ``name`` may be dotted (``pairs.rules``) to reach a nested section.
    """
    section = load_params(args.params) if args.params else {}
    for part in name.split("."):
        section = (section or {}).get(part) or {}
    section = dict(section)
    section.update(_overrides(args.set))
    for flag, key in getattr(args, "_flag_keys", {}).items():
        value = getattr(args, flag)
        if value is not None:
            section[key] = value
    return section


def _seed(args) -> int:
    if args.seed is not None:
        return args.seed
    if args.params:
        return int((load_params(args.params).get("base") or {}).get("seed", 0))
    return 0


def _add_common(p: argparse.ArgumentParser, section: str) -> None:
    p.add_argument("--params", metavar="YAML", help=f"read defaults from the '{section}' section "
                   "(and base.seed) of this params file, e.g. params.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help=f"override any field of the '{section}' config; repeatable "
                   "(e.g. --set days=90)")
    p.add_argument("--seed", type=int, help="random seed (default: base.seed of --params, else 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _flags(p: argparse.ArgumentParser, spec: list[tuple[str, type, str, str]]) -> None:
    """Add config-field flags: (flag, type, config key, help)."""
    keys = {}
    for flag, kind, key, text in spec:
        action = p.add_argument(flag, type=kind, help=text)
        keys[action.dest] = key
    p.set_defaults(_flag_keys=keys)


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


__all__ = ["main", "build_parser", "UserError", "from_mapping", "Path"]
