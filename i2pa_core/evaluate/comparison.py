"""The comparison of paper Fig. 4: every method scored on the same test PDIPs, with n, a 95 %
interval that says what it covers (test pairs, or ours' training runs) and the exact McNemar
test against ours (Holm-adjusted), and the paper's rows for the tools that cannot be re-run
(closed services, Hessel17's Reddit model) kept apart (kind "reported in the paper")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core import paper
from i2pa_core.evaluate import baselines
from i2pa_core.io.files import format_p
from i2pa_core.metrics import bootstrap_mean_ci, holm, mcnemar_test, runs_summary

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


RE_RUN, PANEL, ORACLE, PAPER = ("re-run", "simulated panel", "oracle (ground truth)",
                                "reported in the paper")   # the kinds of Fig. 4's bars
BOOTSTRAP, OVER_RUNS = "bootstrap over test pairs", "t over training runs"
TEST = "McNemar vs ours' run 0, Holm over the figure"


def _kind(method: str) -> str:
    if method.startswith("Oracle"):
        return ORACLE
    return PANEL if "simulated panel" in method else RE_RUN


def comparison_table(scores: dict[str, pd.Series], test: pd.DataFrame, reference: str,
                     extra_rows: list[dict], seed: int,
                     reference_runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fig. 4's table (schema of :mod:`i2pa_core.plots.comparison`).

    Every re-run method is scored on ``test`` (fractions, n, 95 % bootstrap interval over the
    test pairs); ``extra_rows`` (the human majority, on its own pairs) come in that form with
    their ``mcnemar_p``. The p-values are exact McNemar tests against ``scores[reference]``
    (ours' run 0, the model every figure scores with), Holm-adjusted over the rows that have
    one. With ``reference_runs`` (:func:`i2pa_core.train.repeats.runs_table`: the test scores of
    every training run of ours), ours' row is the mean of its runs' accuracies on these pairs
    with the t interval over runs. Rows are sorted by accuracy within the re-run part, then the
    paper's rows (kind "reported in the paper"), which cannot be re-run.
    """
    table = baselines.evaluate_scores(scores, test, reference=reference, rng=seed)
    table = pd.concat([table, pd.DataFrame(extra_rows)], ignore_index=True)
    table["kind"] = [_kind(m) for m in table["method"]]
    table["interval"] = np.where(table["ci_low"].notna(), BOOTSTRAP, "")
    table["runs"] = np.nan
    if reference_runs is not None:
        from i2pa_core.train.repeats import run_columns
        runs = reference_runs.set_index("post_id")
        accs = [baselines.evaluate_scores({"run": runs[c]}, test, rng=seed)["accuracy"].iloc[0]
                for c in run_columns(reference_runs)]
        summary = runs_summary(accs)
        at = table.index[table["method"] == reference][0]
        table.loc[at, ["accuracy", "runs"]] = summary["mean"], summary["runs"]
        if summary["runs"] > 1:
            table.loc[at, ["ci_low", "ci_high"]] = summary["ci_low"], summary["ci_high"]
            table.loc[at, "interval"] = OVER_RUNS
    table["p_vs_ours"] = holm(table["mcnemar_p"].to_numpy(dtype=float))
    table["test"] = np.where(table["p_vs_ours"].notna(), TEST, "")
    paper = pd.DataFrame([{"method": m, "accuracy": a / 100, "kind": PAPER, "interval": "",
                           "test": ""} for m, a in PAPER_ONLY])
    table = table.sort_values("accuracy", ascending=False, kind="stable")
    paper = paper.sort_values("accuracy", ascending=False, kind="stable")
    return pd.concat([table, paper], ignore_index=True)[
        ["method", "kind", "accuracy", "ci_low", "ci_high", "interval", "n", "runs",
         "mcnemar_p", "p_vs_ours", "test"]]


def percent_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison in percent with integer n and runs and p-values in scientific notation
    (:func:`i2pa_core.io.files.format_p`), for the written tables."""
    out = table.copy()
    for col in ("accuracy", "ci_low", "ci_high"):
        out[col] = 100 * out[col]
    for col in ("n", "runs"):
        out[col] = [f"{int(v):,}" if pd.notna(v) else "" for v in out[col]]
    for col in ("mcnemar_p", "p_vs_ours"):
        out[col] = [format_p(v) if pd.notna(v) else "" for v in out[col]]
    return out.rename(columns={"accuracy": "accuracy (%)", "ci_low": "ci_low (%)",
                               "ci_high": "ci_high (%)"})


def comparison_metrics(comparison: pd.DataFrame) -> dict:
    """The comparison table as ``{method: accuracy, ci_low, ci_high (%), interval (what the
    interval covers), n (test pairs), runs, mcnemar_p (raw), p_vs_ours (Holm), test, kind}``."""
    out = {}
    for row in comparison.itertuples(index=False):
        out[row.method] = {"accuracy": 100 * row.accuracy,
                           "n": None if pd.isna(row.n) else int(row.n),
                           "ci_low": 100 * row.ci_low, "ci_high": 100 * row.ci_high,
                           "interval": row.interval or None,
                           "runs": None if pd.isna(row.runs) else int(row.runs),
                           "mcnemar_p": row.mcnemar_p, "p_vs_ours": row.p_vs_ours,
                           "test": row.test or None, "kind": row.kind}
    return out
