"""Typed parameters fail loudly, naming the key (STYLE.md principle 4)."""

from dataclasses import dataclass, field
from typing import Literal

import pytest

from i2pa_core.config import ConfigError, from_mapping, load_params


@dataclass(frozen=True)
class Inner:
    rate: float = 0.5


@dataclass(frozen=True)
class Demo:
    n: int = 3
    name: str = "x"
    mode: Literal["a", "b"] = "a"
    limit: int | None = None
    sizes: tuple[int, ...] = (1, 2)
    inner: Inner = field(default_factory=Inner)


def test_defaults_and_values():
    assert from_mapping(Demo, None, "demo") == Demo()
    cfg = from_mapping(Demo, {"n": 5, "mode": "b", "limit": None, "sizes": [4],
                              "inner": {"rate": 1}}, "demo")
    assert cfg == Demo(n=5, mode="b", limit=None, sizes=(4,), inner=Inner(rate=1.0))


@pytest.mark.parametrize("mapping, message", [
    ({"m": 1}, "demo: unknown key(s) m; allowed: n, name, mode, limit, sizes, inner"),
    ({"n": "3"}, "demo.n: expected an integer, got '3'"),
    ({"n": True}, "demo.n: expected an integer, got True"),
    ({"mode": "c"}, "demo.mode: 'c' is not one of 'a', 'b'"),
    ({"inner": {"rate": "fast"}}, "demo.inner.rate: expected a number, got 'fast'"),
    ({"inner": {"speed": 1}}, "demo.inner: unknown key(s) speed"),
    ({"sizes": 3}, "demo.sizes: expected a list, got 3"),
])
def test_bad_values_name_the_key(mapping, message):
    with pytest.raises(ConfigError) as err:
        from_mapping(Demo, mapping, "demo")
    assert message in str(err.value)


def test_load_params_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such parameter file"):
        load_params(tmp_path / "params.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_params(bad)
