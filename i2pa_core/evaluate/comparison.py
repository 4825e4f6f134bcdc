"""The comparison of paper Fig. 4: every method scored on the same test PDIPs, with n, a 95 %
bootstrap interval and the exact McNemar test against ours, and the paper's rows for the
tools that cannot be re-run (closed services, Hessel17's Reddit model) kept apart
(``source = "paper"``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core import paper
from i2pa_core.evaluate import baselines
from i2pa_core.metrics import bootstrap_mean_ci, mcnemar_test

# Fig. 4 rows that cannot be re-run here: accuracy (%) on the paper's 50,000 test PDIPs.
# Fig. 4 rows that cannot be re-run here: accuracy (%) on the paper's 50,000 test PDIPs.
PAPER_ONLY = tuple((name if "(paper" in name else f"{name} (paper)", value)
                   for name, value in paper.FIG4)


def human_row(responses_plan_table: pd.DataFrame, ours: pd.Series, seed: int,
              label: str) -> dict:
    """The majority-vote row of the comparison from a human pair table
    (:func:`i2pa_core.human.analysis.pair_table`: ``majority_correct`` 1, 0.5 on a tie, or 0), on
    its own pairs (a subset of the test PDIPs), with McNemar against ours on those same pairs. Ties
    count one half in the accuracy and are left out of McNemar, as in
    :func:`i2pa_core.human.analysis.human_vs_model`."""
    table = responses_plan_table
    correct = table["majority_correct"].to_numpy(dtype=np.float64)
    ci = bootstrap_mean_ci(correct, rng=seed)
    model = (table["a_post_id"].map(ours) > table["b_post_id"].map(ours)).to_numpy()
    decided = correct != 0.5
    test = mcnemar_test(correct[decided] == 1.0, model[decided])
    return {"method": label, "accuracy": float(correct.mean()), "n": len(correct),
            "ci_low": ci[0], "ci_high": ci[1], "mcnemar_p": test["p_value"]}


def comparison_table(scores: dict[str, pd.Series], test: pd.DataFrame, reference: str,
                     extra_rows: list[dict], seed: int) -> pd.DataFrame:
    """Fig. 4's table: the re-run methods (fractions, n, CI, McNemar p against ``reference``),
    ``extra_rows`` already in that form, then the paper-only rows; sorted by accuracy within
    each source."""
    table = baselines.evaluate_scores(scores, test, reference=reference, rng=seed)
    table = pd.concat([table, pd.DataFrame(extra_rows)], ignore_index=True)
    table["source"] = "re-run"
    paper = pd.DataFrame([{"method": m, "accuracy": a / 100, "source": "paper"}
                          for m, a in PAPER_ONLY])
    table = table.sort_values("accuracy", ascending=False, kind="stable")
    paper = paper.sort_values("accuracy", ascending=False, kind="stable")
    return pd.concat([table, paper], ignore_index=True)[
        ["method", "source", "accuracy", "n", "ci_low", "ci_high", "mcnemar_p"]]


def percent_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison in percent with integer n, for the written tables."""
    out = table.copy()
    for col in ("accuracy", "ci_low", "ci_high"):
        out[col] = 100 * out[col]
    out["n"] = [f"{int(n):,}" if pd.notna(n) else "" for n in out["n"]]
    return out.rename(columns={"accuracy": "accuracy (%)", "ci_low": "ci_low (%)",
                               "ci_high": "ci_high (%)"})


def comparison_metrics(comparison: pd.DataFrame) -> dict:
    """The comparison table as ``{method: accuracy, n, ci_low, ci_high (%), p, source}``."""
    out = {}
    for row in comparison.itertuples(index=False):
        out[row.method] = {"accuracy": 100 * row.accuracy,
                           "n": None if pd.isna(row.n) else int(row.n),
                           "ci_low": 100 * row.ci_low, "ci_high": 100 * row.ci_high,
                           "mcnemar_p_vs_ours": row.mcnemar_p, "source": row.source}
    return out
