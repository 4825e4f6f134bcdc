"""Table 4, human vs model and accuracy against P on a handmade 4 subjects x 5 pairs experiment.

Correct answers (1 = chose the more popular post a), last answers only:

    pair   H1 H2 H3 H4 H5      subject  gender  Instagram  h/day  accuracy
    S01     1  1  1  0  1      80 %     female  yes        4
    S02     1  0  1  0  1      60 %     female  no         1   (H2 first 1, then changed to 0)
    S03     1  1  0  0  0      40 %     male    yes        3   (3 h is not "> 3 h")
    S04     0  1  1  1  0      60 %     male    no         5
    share   .75 .75 .75 .25 .5 -> majority 1, 1, 1, 0, tie 0.5 -> 70 %
    model    1  1  0  1  0  -> 60 %
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from i2pa_core.human.analysis import (accuracy_by_p, fig9_selection, group_tests,
                                      human_vs_model, mcnemar_exact, pair_table, table4,
                                      final_answers, wilson_interval)
from i2pa_core.human.store import read_subjects

CORRECT = {"S01": [1, 1, 1, 0, 1], "S02": [1, 0, 1, 0, 1], "S03": [1, 1, 0, 0, 0],
           "S04": [0, 1, 1, 1, 0]}
PLAN = {"pairs": [{"pair_id": f"H{i}", "a_post_id": f"A{i}", "b_post_id": f"B{i}",
                   "p": 0.94 + 0.01 * i} for i in range(1, 6)]}
SUBJECTS_CSV = ("subject,gender,age,used_instagram,social_hours,timestamp\n"
                "S01,female,21,yes,4.0,t\nS02,female,22,no,1.0,t\n"
                "S03,male,23,yes,3.0,t\nS04,male,24,no,5.0,t\n")
MODEL_RIGHT = [True, True, False, True, False]


def _responses() -> pd.DataFrame:
    rows = [("S01", 0, "T01", "X1")]  # a training answer: ignored
    rows.append(("S02", 1, "H2", "A2"))  # S02's first answer to H2, changed below
    for subject, answers in CORRECT.items():
        rows += [(subject, 1, f"H{i}", f"A{i}" if ok else f"B{i}")
                 for i, ok in enumerate(answers, start=1)]
    return pd.DataFrame([{"subject": s, "session": n, "pair_id": p, "left_post_id": "A1",
                          "choice": c, "rt_ms": 1000, "timestamp": "t"} for s, n, p, c in rows])


@pytest.fixture()
def answers():
    return final_answers(_responses(), PLAN)


@pytest.fixture()
def subjects(tmp_path):
    (tmp_path / "s.csv").write_text(SUBJECTS_CSV)
    return read_subjects(tmp_path / "s.csv")


def _scores():
    rows = []
    for i, right in enumerate(MODEL_RIGHT, start=1):
        rows += [(f"A{i}", 1.0 if right else 0.0), (f"B{i}", 0.0 if right else 1.0)]
    return pd.DataFrame(rows, columns=["post_id", "score"])


def test_table4_by_hand(answers, subjects):
    table = table4(answers, subjects).set_index("Accuracy (%)")
    s20, s40 = np.sqrt(200), np.sqrt(800)  # std of {80, 60} and of {80, 40}
    expected = {"Majority": (70, np.nan, 5), "Single": (60, np.sqrt(800 / 3), 4),
                "Female": (70, s20, 2), "Male": (50, s20, 2), "Instagram users": (60, s40, 2),
                "Little Instagram": (60, 0, 2), "> 3 h/day": (70, s20, 2),
                "< 3 h/day": (50, s20, 2)}
    assert list(table.columns) == list(expected)
    for column, values in expected.items():
        np.testing.assert_allclose(table[column].to_numpy(), values, equal_nan=True)


@pytest.mark.filterwarnings("ignore:Precision loss")  # one group is {60, 60}
def test_welch_tests_by_hand(answers, subjects):
    tests = group_tests(answers, subjects).set_index("comparison")
    # Female vs Male: difference 20, se sqrt(100 + 100), df 2; for df 2, p = 1 - t/sqrt(t^2 + 2).
    t = 20 / np.sqrt(200)
    for row in ("Female vs Male", "> 3 h/day vs < 3 h/day"):
        assert tests.loc[row, "t"] == pytest.approx(t)
        assert tests.loc[row, "df"] == pytest.approx(2)
        assert tests.loc[row, "p_value"] == pytest.approx(1 - t / np.sqrt(t**2 + 2))
    assert tests.loc["Instagram users vs Little Instagram", "t"] == pytest.approx(0)
    assert tests.loc["Instagram users vs Little Instagram", "p_value"] == pytest.approx(1)


def test_human_vs_model_by_hand(answers):
    row = human_vs_model(pair_table(answers, _scores())).iloc[0]
    assert row["n_pairs"] == 5 and row["ties_left_out"] == 1
    assert row["human_majority (%)"] == pytest.approx(70) and row["model (%)"] == pytest.approx(60)
    counts = row[["both_right", "human_only", "model_only", "both_wrong"]].tolist()
    assert counts == [2, 1, 1, 0]
    assert row["mcnemar_p"] == pytest.approx(1.0)  # 1 vs 1 discordant pairs


def test_exact_mcnemar_by_hand():
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_exact(1, 6) == pytest.approx(2 * 8 / 128)
    assert mcnemar_exact(0, 0) == 1.0


def test_pair_table_shares_and_missing_scores(answers):
    table = pair_table(answers).set_index("pair_id")
    np.testing.assert_allclose(table["share_a"], [0.75, 0.75, 0.75, 0.25, 0.5])
    np.testing.assert_allclose(table["majority_correct"], [1, 1, 1, 0, 0.5])
    assert table["n_subjects"].tolist() == [4] * 5
    with pytest.raises(ValueError, match="lacks a score"):
        pair_table(answers, _scores().iloc[2:])


def test_accuracy_by_p_by_hand(answers):
    binned = accuracy_by_p(pair_table(answers, _scores()), [0.95, 0.97, 0.99])
    assert binned["n_pairs"].tolist() == [3, 2]
    np.testing.assert_allclose(binned["majority"], [100, 25])
    np.testing.assert_allclose(binned["model"], [200 / 3, 50])
    np.testing.assert_allclose(binned["single"], [75, 37.5])
    assert binned.loc[0, "majority_low"] == pytest.approx(43.85, abs=0.01)  # Wilson, 3 of 3
    assert binned.loc[0, "majority_high"] == pytest.approx(100)


def test_wilson_interval_known_value():
    low, high = wilson_interval(50, 100)  # 50 of 100
    assert (low, high) == (pytest.approx(0.4038, abs=1e-4), pytest.approx(0.5962, abs=1e-4))


def test_fig9_selection_groups(answers):
    chosen = fig9_selection(pair_table(answers, _scores()), per_group=2)
    assert list(zip(chosen["group"], chosen["pair_id"])) == [
        ("both right", "H1"), ("both right", "H2"), ("humans wrong, model right", "H4"),
        ("model wrong, humans right", "H3")]
