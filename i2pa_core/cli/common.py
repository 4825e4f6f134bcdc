"""What every ``i2pa`` verb shares: the user-error type, the exit codes, the ``--params`` /
``--set`` / ``--seed`` / ``--quiet`` options and the config section they build."""

from __future__ import annotations

import argparse

import yaml

from i2pa_core.config import load_params

EXIT_OK, EXIT_USER_ERROR = 0, 2


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit code 2."""


def parse_overrides(pairs: list[str] | None) -> dict:
    """Parse ``--set key=value`` items; values are read as YAML scalars (1, 0.5, true, text)."""
    out = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def config_section(args, name: str, only=None, skip=()) -> dict:
    """The ``name`` section of ``--params`` (if given), updated by ``--set`` and explicit flags.

    ``name`` may be dotted (``pairs.rules``) to reach a nested section. ``only`` keeps just
    those keys (of the section, ``--set`` and the flags) and ``skip`` drops keys of ``--set``
    and the flags, so one verb can feed two configs (``i2pa pairs``: rules and engine).
    """
    section = load_params(args.params) if args.params else {}
    for part in name.split("."):
        section = (section or {}).get(part) or {}
    section = {k: v for k, v in dict(section).items() if only is None or k in only}
    wanted = (lambda key: key in only) if only is not None else (lambda key: key not in skip)
    section.update({k: v for k, v in parse_overrides(args.set).items() if wanted(k)})
    for flag, key in getattr(args, "_flag_keys", {}).items():
        value = getattr(args, flag)
        if value is not None and wanted(key):
            section[key] = value
    return section


def resolve_seed(args) -> int:
    if args.seed is not None:
        return args.seed
    if args.params:
        return int((load_params(args.params).get("base") or {}).get("seed", 0))
    return 0


def add_common(p: argparse.ArgumentParser, section: str) -> None:
    p.add_argument("--params", metavar="YAML", help=f"read defaults from the '{section}' section "
                   "(and base.seed) of this params file, e.g. params.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help=f"override any field of the '{section}' config; repeatable "
                   "(e.g. --set days=90)")
    p.add_argument("--seed", type=int, help="random seed (default: base.seed of --params, else 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def add_config_flags(p: argparse.ArgumentParser, spec: list[tuple[str, type, str, str]]) -> None:
    """Add config-field flags: (flag, type, config key, help)."""
    keys = {}
    for flag, kind, key, text in spec:
        action = p.add_argument(flag, type=kind, help=text)
        keys[action.dest] = key
    p.set_defaults(_flag_keys=keys)
