"""The README Results block against the metrics files it names (issue 14).

Each row ``| quantity | paper | ours | file |`` between the report's markers: every number in
"ours" must be a value of the named file, rounded to the decimals printed (searched in the
entry of that row when the file has one: the dict whose ``label`` is the quantity, or the one
stored under the quantity's name, else anywhere in the file); and each accuracy row must say
what its interval covers and its n.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from i2pa_core.io.files import read_metrics
from i2pa_core.stages.report import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])|(?<![\w.])-?\d+(?:\.\d+)?")
INTERVAL = re.compile(r"\[\s*-?\d[\d.,]*\s*,\s*-?\d[\d.,]*\s*\]")
# what an interval varies over, e.g. "95 % bootstrap over test pairs", "t interval over 3 runs"
COVERS = re.compile(r"\b(over|across)\b[^|\[\]]*\b(test pairs|pairs|runs|seeds|subjects)\b")
HAS_N = re.compile(r"\bn = \d")
COVERAGE_PHRASE = re.compile(r"\(95 % [^)]*\)")


def results_rows(readme: str) -> list[tuple[str, str, str, str]]:
    """(quantity, paper, ours, file) of the table between the report's markers."""
    start, stop = readme.find(BEGIN), readme.find(END)
    assert 0 <= start < stop, "README.md: the results markers are missing"
    rows = []
    for line in readme[start + len(BEGIN):stop].splitlines():
        if not line.startswith("| ") or line.startswith(("| quantity |", "|---")):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 4, f"not four cells: {line}"
        rows.append((cells[0], cells[1], cells[2], cells[3].strip("`")))
    return rows


def printed_numbers(text: str) -> list[tuple[float, int]]:
    """(value, decimals printed) of each number in ``text``: ``"5,000"`` -> (5000.0, 0). The
    phrase that says what an interval covers (``(95 % t over 4 training runs)``) is wording,
    not a result, and is left out."""
    out = []
    for match in NUMBER.finditer(COVERAGE_PHRASE.sub("", text)):
        token = match.group().replace(",", "")
        out.append((float(token), len(token.split(".")[1]) if "." in token else 0))
    return out


def numeric_leaves(obj) -> list[float]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [float(obj)]
    if isinstance(obj, dict):
        return [v for value in obj.values() for v in numeric_leaves(value)]
    if isinstance(obj, list):
        return [v for value in obj for v in numeric_leaves(value)]
    return []


def entry_of(metrics, quantity: str):
    """The part of a metrics file that a row reads: a dict with an ``accuracy`` whose ``label``
    is the quantity (``generalisation: <label>`` included; a report that only names the method,
    such as the frozen baseline's, is not a row) or one stored under the quantity's name; None
    when the row reads top-level keys."""
    stack = [metrics]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            label = node.get("label")
            if isinstance(label, str) and quantity in (label, f"generalisation: {label}") \
                    and "accuracy" in node:
                return node
            if isinstance(node.get(quantity), dict):
                return node[quantity]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def matches(value: float, decimals: int, leaves: list[float]) -> bool:
    """Some leaf rounds to ``value`` at ``decimals`` places (half a unit of the last digit)."""
    return any(abs(leaf - value) <= 0.5 * 10.0**-decimals + 1e-9 for leaf in leaves)


ROWS = results_rows((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_block_has_rows():
    assert len(ROWS) >= 5


@pytest.mark.parametrize("quantity, paper, ours, file", ROWS, ids=[r[0] for r in ROWS])
def test_every_number_of_ours_is_in_the_named_file(quantity, paper, ours, file):
    path = ROOT / file
    assert path.is_file(), f"{quantity}: {file} does not exist"
    metrics = read_metrics(path)
    entry = entry_of(metrics, quantity)
    leaves = numeric_leaves(metrics if entry is None else entry)
    numbers = printed_numbers(ours)
    assert numbers or ours.startswith("not available"), f"{quantity}: no number in {ours!r}"
    missing = [f"{v:.{d}f}" for v, d in numbers if not matches(v, d, leaves)]
    where = "its entry" if entry is not None else "anywhere"
    assert not missing, f"{quantity}: {missing} of {ours!r} not found in {where} in {file}"


def test_number_parsing_and_rounding():
    assert printed_numbers("92.14 % [91.38, 92.88], n = 5,000") == \
        [(92.14, 2), (91.38, 2), (92.88, 2), (5000.0, 0)]
    assert printed_numbers("179,036 / 1,200") == [(179036.0, 0), (1200.0, 0)]
    assert printed_numbers("60.77 % [58.37, 63.18] (95 % t over 4 training runs), n = 1,000") \
        == [(60.77, 2), (58.37, 2), (63.18, 2), (1000.0, 0)]
    assert matches(83.70, 2, [83.6975]) and not matches(83.70, 2, [83.694])
    assert not matches(5000.0, 0, [5001])


def is_accuracy(ours: str) -> bool:
    return "%" in ours and not ours.startswith("not available")


def interval_report(rows) -> list[str]:
    """The accuracy rows that do not give n, or have an interval without saying what it
    varies over (test pairs, runs, ...)."""
    bad = []
    for quantity, _, ours, _ in rows:
        if not is_accuracy(ours):
            continue
        if not HAS_N.search(ours):
            bad.append(f"{quantity}: no n in {ours!r}")
        if INTERVAL.search(ours) and not COVERS.search(ours):
            bad.append(f"{quantity}: the interval of {ours!r} does not say what it covers")
    return bad


def test_the_interval_check_accepts_a_row_that_says_what_it_covers():
    good = [("ours", "-", "92.14 % [91.38, 92.88] (95 % bootstrap over test pairs), "
                          "n = 5,000 test pairs", "f"),
            ("beyond", "-", "84.73 % [80.36, 89.11] (95 % t interval over 3 runs), n = 3 runs "
                            "of 1,000 test pairs", "f"),
            ("pearson", "-", "0.76 / 0.75", "f")]
    assert interval_report(good) == []
    bad = [("ours", "-", "92.14 % [91.38, 92.88], n = 5,000", "f"),
           ("oracle", "-", "93.82 %", "f")]
    assert len(interval_report(bad)) == 2


def test_every_accuracy_row_says_what_its_interval_covers_and_its_n():
    bad = interval_report(ROWS)
    assert not bad, "\n".join(bad)


def test_a_row_is_checked_against_its_own_entry():
    metrics = {"n_posts": 179036, "comparison": {"Random": {"accuracy": 49.7, "n": 5000}},
               "rows": [{"label": "Table 2: 0 % label noise", "accuracy": 85.8, "n": 1000}],
               "generalisation": [{"label": "flickr platform, pdip pairs", "accuracy": 84.87}]}
    assert entry_of(metrics, "Random") == {"accuracy": 49.7, "n": 5000}
    assert entry_of(metrics, "Table 2: 0 % label noise")["accuracy"] == 85.8
    assert entry_of(metrics, "generalisation: flickr platform, pdip pairs")["accuracy"] == 84.87
    assert entry_of(metrics, "posts / users") is None
    leaves = numeric_leaves(entry_of(metrics, "Random"))
    assert matches(49.70, 2, leaves) and not matches(85.80, 2, leaves)  # not another row's
