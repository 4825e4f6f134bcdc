"""Analysis of the psychophysical experiment: Table 4, human vs model, accuracy against P (pure).

Conventions (documented here once):

* Only test pairs count (``pair_id`` in ``plan["pairs"]``); training rows are ignored. When a
  subject answered a pair more than once (the "previous" button), the last answer counts.
* An answer is *correct* when it picks the more popular post (``a_post_id``).
* Majority vote per pair: correct (1) when more than half of its subjects were correct, wrong (0)
  below half, and 0.5 on an exact tie (the expected score of breaking the tie by a coin).
  The exact McNemar test leaves tied pairs out.
* Single-subject accuracy is each subject's share correct; Table 4 shows the mean and the sample
  standard deviation (ddof=1) over subjects, in per cent. Groups are compared with Welch's t-test.
* The model is correct on a pair when it scores ``a_post_id`` strictly higher.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from i2pa_core.human.store import last_answers
from i2pa_core.metrics import mcnemar_exact, wilson_interval  # noqa: F401  (public API)

# Table 4 columns after Majority and Single: label -> rows of the subjects table it selects.
GROUPS = {
    "Female": lambda s: s["gender"] == "female",
    "Male": lambda s: s["gender"] == "male",
    "Instagram users": lambda s: s["used_instagram"],
    "Little Instagram": lambda s: ~s["used_instagram"],
    "> 3 h/day": lambda s: s["social_hours"] > 3,
    "< 3 h/day": lambda s: s["social_hours"] <= 3,
}
COMPARISONS = [("Female", "Male"), ("Instagram users", "Little Instagram"),
               ("> 3 h/day", "< 3 h/day")]
FIG9_GROUPS = {"both right": (1.0, True), "humans wrong, model right": (0.0, True),
               "model wrong, humans right": (1.0, False), "both against the likes": (0.0, False)}


def final_answers(responses: pd.DataFrame, plan: dict) -> pd.DataFrame:
    """The answer that counts per (subject, test pair), with the pair's posts, P and ``correct``."""
    pairs = pd.DataFrame(plan["pairs"])[["pair_id", "a_post_id", "b_post_id", "p"]]
    answers = last_answers(responses).merge(pairs, on="pair_id", how="inner")
    answers["correct"] = answers["choice"] == answers["a_post_id"]
    return answers


def subject_accuracy(answers: pd.DataFrame) -> pd.Series:
    """Share of correct answers per subject (index: subject)."""
    return answers.groupby("subject")["correct"].mean()


def pair_table(answers: pd.DataFrame, model_scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per test pair: share of subjects choosing each post, majority vote, model.

    Args:
        model_scores: optional frame ``post_id, score``; adds score_a, score_b, model_correct.
    """
    out = (answers.groupby(["pair_id", "a_post_id", "b_post_id", "p"], as_index=False)
           .agg(n_subjects=("correct", "size"), share_a=("correct", "mean")))
    out["share_b"] = 1.0 - out["share_a"]
    out["majority_correct"] = np.sign(out["share_a"] - 0.5) / 2 + 0.5
    if model_scores is not None:
        score = model_scores.set_index("post_id")["score"]
        out["score_a"] = out["a_post_id"].map(score)
        out["score_b"] = out["b_post_id"].map(score)
        if out[["score_a", "score_b"]].isna().any().any():
            raise ValueError("model_scores lacks a score for some posts of the plan's pairs")
        out["model_correct"] = out["score_a"] > out["score_b"]
    return out


def table4(answers: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """Table 4: accuracy (%) of the majority vote, of single subjects and of each group.

    Rows Mean, Std and n (pairs for Majority, subjects otherwise); ``Std`` of Majority is NaN.
    """
    accuracy = subject_accuracy(answers) * 100
    subjects = subjects.set_index("subject").loc[accuracy.index]
    majority = pair_table(answers)["majority_correct"] * 100
    columns = {"Majority": [majority.mean(), np.nan, len(majority)],
               "Single": [accuracy.mean(), accuracy.std(ddof=1), len(accuracy)]}
    for label, select in GROUPS.items():
        group = accuracy[select(subjects).to_numpy()]
        columns[label] = [group.mean(), group.std(ddof=1), len(group)]
    table = pd.DataFrame(columns)
    table.insert(0, "Accuracy (%)", ["Mean", "Std", "n"])
    return table


def group_tests(answers: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """Welch t-tests of single-subject accuracy (%) between the groups of Table 4."""
    accuracy = subject_accuracy(answers) * 100
    subjects = subjects.set_index("subject").loc[accuracy.index]
    rows = []
    for first, second in COMPARISONS:
        a = accuracy[GROUPS[first](subjects).to_numpy()]
        b = accuracy[GROUPS[second](subjects).to_numpy()]
        result = stats.ttest_ind(a, b, equal_var=False)
        rows.append({"comparison": f"{first} vs {second}", "mean_a": a.mean(), "mean_b": b.mean(),
                     "difference": a.mean() - b.mean(), "t": float(result.statistic),
                     "df": float(result.df), "p_value": float(result.pvalue)})
    return pd.DataFrame(rows)


def human_vs_model(table: pd.DataFrame) -> pd.DataFrame:
    """Majority vote against the model on the same pairs (:func:`pair_table` with scores).

    Accuracies use every pair (ties at 0.5); the McNemar counts and p-value leave ties out.
    """
    decided = table[table["majority_correct"] != 0.5]
    human, model = decided["majority_correct"] == 1.0, decided["model_correct"]
    counts = {"both_right": int((human & model).sum()), "human_only": int((human & ~model).sum()),
              "model_only": int((~human & model).sum()), "both_wrong": int((~human & ~model).sum())}
    return pd.DataFrame([{"n_pairs": len(table), "human_majority (%)":
                          100 * table["majority_correct"].mean(),
                          "model (%)": 100 * table["model_correct"].mean(), **counts,
                          "ties_left_out": len(table) - len(decided),
                          "mcnemar_p": mcnemar_exact(counts["human_only"], counts["model_only"])}])


def accuracy_by_p(table: pd.DataFrame, edges) -> pd.DataFrame:
    """Accuracy (%) of the majority vote, of single subjects and of the model per bin of P.

    Majority and model get 95 % Wilson intervals over pairs; the single-subject accuracy (mean
    share correct per pair) a normal interval over pairs, as answers to one pair are not
    independent.
    """
    binned = table.assign(bin=pd.cut(table["p"], edges, include_lowest=True))
    rows = []
    for interval, g in binned.groupby("bin", observed=True):
        n = len(g)
        row = {"p_low": interval.left, "p_high": interval.right, "n_pairs": n}
        for name, values in [("majority", g["majority_correct"]),
                             ("model", g.get("model_correct"))]:
            if values is None:
                continue
            low, high = wilson_interval(values.sum(), n)
            row.update({name: 100 * values.mean(), f"{name}_low": 100 * low,
                        f"{name}_high": 100 * high})
        half = 1.96 * g["share_a"].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        row.update({"single": 100 * g["share_a"].mean(), "single_low": 100 * (g["share_a"].mean()
                    - half), "single_high": 100 * (g["share_a"].mean() + half)})
        rows.append(row)
    return pd.DataFrame(rows)


def fig9_selection(table: pd.DataFrame, per_group: int = 2) -> pd.DataFrame:
    """The Fig. 9 examples: ``per_group`` pairs of each of the four groups of FIG9_GROUPS.

    Within a group the pairs where the subjects agreed most are shown (ties by pair id), so the
    choice is deterministic. A group with fewer pairs shows what there is.
    """
    picked = []
    for label, (majority, model) in FIG9_GROUPS.items():
        g = table[(table["majority_correct"] == majority) & (table["model_correct"] == model)]
        g = g.assign(agreement=(g["share_a"] - 0.5).abs()).sort_values(
            ["agreement", "pair_id"], ascending=[False, True])
        picked.append(g.head(per_group).assign(group=label))
    return pd.concat(picked, ignore_index=True).drop(columns="agreement")
