"""The params a DVC stage declares, and nothing else: what the notebook runner injects.

DVC re-runs a stage when a params key that the stage declares changes (``params:`` in
``dvc.yaml``). A notebook that read an undeclared key would go stale silently when that key
changed, so the runner gives a stage only what it declares:

* ``train`` declares the whole section; ``pairs.posts`` declares one key of ``pairs``;
  ``ablate.runs.${key}`` and ``ablate.budgets.${item.budget}`` in a ``foreach`` stage are
  resolved for the stage's item (``ablate@noise_10``).
* A notebook whose ``parameters`` cell names a section that the stage does not declare at all
  is refused before it runs (:func:`check_notebook_sections`).
* A partly declared section (``pairs`` when only ``pairs.posts`` is declared) is injected as a
  :class:`DeclaredSection`: reading one of its undeclared keys raises
  :class:`UndeclaredParamError`, naming the stage and the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from i2pa_core.config import ConfigError

_TEMPLATE = re.compile(r"\$\{\s*([\w.]+)\s*\}")


class UndeclaredParamError(LookupError):
    """A stage read a params key that its ``dvc.yaml`` entry does not declare."""


class DeclaredSection(dict):
    """A params section of which a stage declares only some keys.

    Reading a key that exists in the parameter file but is not declared raises
    :class:`UndeclaredParamError` (``[]`` and ``get`` alike); other keys behave as in a dict.
    """

    def __init__(self, values: dict, stage: str, path: str, undeclared):
        super().__init__(values)
        self.stage, self.path, self.undeclared = stage, path, frozenset(undeclared)

    def _refuse(self, key):
        raise UndeclaredParamError(
            f"stage {self.stage} reads params key {self.path}.{key}, which its params in "
            f"dvc.yaml do not declare; add '{self.path}.{key}' (or '{self.path}') to them")

    def __missing__(self, key):
        if key in self.undeclared:
            self._refuse(key)
        raise KeyError(key)

    def get(self, key, default=None):
        if key not in self and key in self.undeclared:
            self._refuse(key)
        return super().get(key, default)

    def __reduce__(self):  # deepcopy and pickle keep the guard
        return (DeclaredSection, (dict(self), self.stage, self.path, self.undeclared))


def _lookup(params: dict, dotted: str, stage: str):
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"stage {stage}: params key {dotted!r} (declared in dvc.yaml) is "
                              f"not in the parameter file")
        node = node[part]
    return node


def stage_definition(dvc_yaml: str | Path, stage: str, params: dict) -> tuple[dict, dict]:
    """The stage's ``dvc.yaml`` entry (a ``foreach`` body for ``name@key``) and its template
    variables (``key`` and ``item``)."""
    stages = yaml.safe_load(Path(dvc_yaml).read_text(encoding="utf-8"))["stages"]
    name, _, key = stage.partition("@")
    if name not in stages:
        raise ConfigError(f"--stage {stage}: no such stage in {dvc_yaml}; "
                          f"stages: {', '.join(stages)}")
    entry = stages[name]
    if "foreach" not in entry:
        return entry, {}
    match = _TEMPLATE.fullmatch(str(entry["foreach"]).strip())
    items = _lookup(params, match.group(1), stage) if match else entry["foreach"]
    if key not in (items or {}):
        raise ConfigError(f"--stage {stage}: {key!r} is not an item of {name}'s foreach; "
                          f"items: {', '.join(items or {})}")
    return entry["do"], {"key": key, "item": items[key]}


def _resolve(text: str, variables: dict) -> str:
    def value(match):
        parts = match.group(1).split(".")
        node = variables
        for part in parts:
            node = node[part]
        return str(node)

    return _TEMPLATE.sub(value, text)


def declared_keys(dvc_yaml: str | Path, stage: str, params: dict) -> list[str]:
    """The params keys that ``stage`` declares, templates resolved (``ablate.runs.noise_10``)."""
    entry, variables = stage_definition(dvc_yaml, stage, params)
    keys = []
    for item in entry.get("params") or []:
        names = item if isinstance(item, str) else [k for v in item.values() for k in v]
        keys.extend([names] if isinstance(names, str) else names)
    return [_resolve(k, variables) for k in keys]


def stage_outputs(dvc_yaml: str | Path, stage: str, params: dict) -> list[str]:
    """Every path that ``stage`` declares under ``outs``, ``metrics`` and ``plots``, templates
    resolved."""
    entry, variables = stage_definition(dvc_yaml, stage, params)
    names = [next(iter(item)) if isinstance(item, dict) else item
             for kind in ("outs", "metrics", "plots") for item in entry.get(kind) or []]
    return [_resolve(str(name), variables) for name in names]


def declared_params(params: dict, keys: list[str], stage: str) -> dict:
    """The part of ``params`` that ``keys`` declare, partly declared sections guarded."""
    out: dict = {}
    for dotted in keys:
        value = _lookup(params, dotted, stage)
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return {name: _guard(value, params[name], stage, name) for name, value in out.items()}


def _guard(value, full, stage: str, path: str):
    if not isinstance(value, dict) or value is full:
        return value
    inner = {k: _guard(v, full[k], stage, f"{path}.{k}") for k, v in value.items()}
    return DeclaredSection(inner, stage, path, set(full) - set(value))


def check_notebook_sections(names, params: dict, injected: dict, stage: str,
                            source: str) -> None:
    """Refuse a notebook whose ``parameters`` cell names a params section the stage does not
    declare (it would run on the cell's default, behind DVC's back)."""
    for name in sorted(names):
        if name in params and name not in injected:
            raise ConfigError(f"stage {stage}: {source} reads params section {name!r}, which "
                              f"the stage's params in dvc.yaml do not declare")


def guard_code(injected: dict) -> str:
    """The notebook cell that re-wraps the partly declared sections after papermill's
    injected-parameters cell (papermill injects plain literals)."""
    lines = []
    for name, value in injected.items():
        if isinstance(value, DeclaredSection):
            lines.append(f"{name} = _declared({name}, {_spec(value)!r})")
    if not lines:
        return ""
    return "from i2pa_core.stages.declared import rewrap as _declared\n" + "\n".join(lines)


def _spec(section: DeclaredSection) -> dict:
    return {"stage": section.stage, "path": section.path,
            "undeclared": sorted(section.undeclared),
            "inner": {k: _spec(v) for k, v in section.items() if isinstance(v, DeclaredSection)}}


def rewrap(values: dict, spec: dict) -> DeclaredSection:
    """Inside the notebook: a plain dict back into its :class:`DeclaredSection` form."""
    inner = {k: rewrap(v, spec["inner"][k]) if k in spec["inner"] else v
             for k, v in values.items()}
    return DeclaredSection(inner, spec["stage"], spec["path"], spec["undeclared"])
