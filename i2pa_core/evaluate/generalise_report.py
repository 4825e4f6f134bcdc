"""The generalisation table (:func:`i2pa_core.evaluate.generalise.run_generalisation`) as written:
percent rows, ``metrics.json`` entries and a caption that says what each construction measures.

Entry schema (one per pair set, percent values): ``label``, ``variant``, ``construction``, ``n``
(test pairs, the same for every run), ``runs``, ``accuracy`` (mean over runs), ``ci_low`` /
``ci_high`` (95 % t interval of that mean over runs, the training noise; null for one run),
``min`` / ``max`` and ``run_accuracies`` (the runs), ``oracle`` with ``oracle_ci_low`` /
``oracle_ci_high`` (the platform's own q on the same pairs, bootstrap over pairs),
``label_cues`` (``{trait: accuracy}``, :func:`i2pa_core.evaluate.generalise.label_cues`) and
``paper`` (the paper's number where one is comparable, else "-").
"""

from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

_PERCENT = {"accuracy": "accuracy (%)", "ci_low": "ci_low (%)", "ci_high": "ci_high (%)",
            "min": "min (%)", "max": "max (%)", "oracle_accuracy": "oracle (%)",
            "oracle_ci_low": "oracle_ci_low (%)", "oracle_ci_high": "oracle_ci_high (%)"}
WHAT = {"pdip": "our PDIPs (same user, same weeks)",
        "flickr": "the paper's Flickr construction (most vs least likes per follower per day, "
                  "across users, paired at random)",
        "flickr_user": "the same pairing with popularity relative to the user's posts of the "
                       "same weeks (PDIP window and age rules)"}


def percent_rows(table: pd.DataFrame, paper: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """The written table: variant, construction, n, runs, the accuracies in percent and the
    paper's number where ``paper`` has one for (variant, construction), else "-"."""
    out = table[["variant", "construction", "n", "runs"]].copy()
    for column, label in _PERCENT.items():
        out[label] = 100 * table[column]
    out["paper"] = [paper.get((v, c), "-") for v, c in zip(table["variant"],
                                                            table["construction"])]
    return out


def metric_entries(table: pd.DataFrame, paper: Mapping[tuple[str, str], str]) -> list[dict]:
    """One ``metrics.json`` entry per row (the module docstring's schema)."""
    cues = [c for c in table.columns if c.startswith("cue_")]
    entries = []
    for row in table.to_dict("records"):
        entries.append({
            "label": f"{row['variant']} platform, {row['construction']} pairs",
            "variant": row["variant"], "construction": row["construction"],
            "n": int(row["n"]), "runs": int(row["runs"]),
            **{k: _pct(row[k]) for k in ("accuracy", "ci_low", "ci_high", "min", "max")},
            "run_accuracies": [_pct(v) for v in row["run_accuracies"]],
            "oracle": _pct(row["oracle_accuracy"]),
            "oracle_ci_low": _pct(row["oracle_ci_low"]),
            "oracle_ci_high": _pct(row["oracle_ci_high"]),
            "label_cues": {c[len("cue_"):]: _pct(row[c]) for c in cues},
            "paper": paper.get((row["variant"], row["construction"]), "-")})
    return entries


def _pct(value) -> float | None:
    return None if value is None or math.isnan(value) else 100.0 * float(value)


def caption(table: pd.DataFrame, note: str) -> str:
    """What the rows are, which variance each interval holds, and what each construction's
    label measures, with the trait accuracies of this run (``cue_*`` columns)."""
    runs = int(table["runs"].iloc[0])
    spread = (f"mean of {runs} training runs, 95 % t interval over runs (training noise) and "
              f"the runs' min-max" if runs > 1 else
              "one training run: no interval over runs (set train.repeats for one)")
    parts = [f"Pairwise accuracy of the model trained on the instagram variant on other "
             f"simulated platforms ({spread}; n test pairs, the same for every run). Oracle: "
             f"the platform's own hidden intrinsic score q on the same pairs, 95 % bootstrap "
             f"interval over pairs."]
    for construction in table["construction"].unique():
        rows = table[table["construction"] == construction]
        parts.append(f"{construction}: {WHAT.get(construction, construction)}; "
                     f"{_label_share(rows)}.")
    parts.append("Where a trait orders the pairs better than q, the label is that trait, "
                 "not the image, and the oracle is no ceiling.")
    return " ".join(parts + [note])


def _label_share(rows: pd.DataFrame) -> str:
    traits = {"cue_younger": "the younger post", "cue_user_rate": "the post of the user with "
              "more likes per follower"}
    said = [f"{text} is the more popular in {_span(rows[c])} %"
            for c, text in traits.items() if c in rows.columns]
    return ", ".join(said + [f"q orders {_span(rows['oracle_accuracy'])} %"])


def _span(values: pd.Series) -> str:
    low, high = 100 * values.min(), 100 * values.max()
    return f"{low:.0f}" if round(low) == round(high) else f"{low:.0f}-{high:.0f}"
