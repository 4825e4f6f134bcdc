"""Evaluate-stage glue: the comparison table, the human row, user inputs, image loading."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from i2pa_core.evaluate import comparison as C
from i2pa_core.stages import evaluate as E
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.io.images import ImageError


def _pairs():
    return pd.DataFrame({"a_post_id": ["a1", "a2", "a3", "a4"],
                         "b_post_id": ["b1", "b2", "b3", "b4"]})


def test_comparison_table_orders_rerun_rows_by_accuracy_then_paper_rows():
    ids = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]
    perfect = pd.Series([1, 1, 1, 1, 0, 0, 0, 0], index=ids, dtype=float)
    # Right on pairs 1 and 2 only: 50 %.
    half = pd.Series([1, 1, 0, 0, 0, 0, 1, 1], index=ids, dtype=float)
    extra = [{"method": "Human (simulated panel)", "accuracy": 0.75, "n": 4, "ci_low": 0.5,
              "ci_high": 1.0, "mcnemar_p": 1.0}]
    table = C.comparison_table({"Half": half, "Ours": perfect, "Oracle (q)": perfect},
                               _pairs(), "Ours", extra, 0)
    rerun = table[table["kind"] != C.PAPER]
    assert list(rerun["method"]) == ["Ours", "Oracle (q)", "Human (simulated panel)", "Half"]
    assert list(rerun["kind"]) == [C.RE_RUN, C.ORACLE, C.PANEL, C.RE_RUN]
    assert list(rerun["accuracy"]) == [1.0, 1.0, 0.75, 0.5]
    rows = rerun.set_index("method")
    assert rows.loc["Ours", "n"] == 4 and rows.loc["Ours", "interval"] == C.BOOTSTRAP
    assert np.isnan(rows.loc["Ours", "mcnemar_p"]) and np.isnan(rows.loc["Ours", "p_vs_ours"])
    # b = 0 pairs only Half gets right, c = 2 only Ours: exact two-sided p = 2 * 0.5^2 = 0.5.
    assert rows.loc["Half", "mcnemar_p"] == pytest.approx(0.5)
    # Holm over the three raw p-values (Oracle = Ours: 1.0; Human 1.0; Half 0.5):
    # sorted 0.5, 1, 1 -> 3 * 0.5 = 1.5 capped at 1; the others max(1, 2 * 1) -> 1.
    assert rows.loc["Half", "p_vs_ours"] == pytest.approx(1.0)
    assert rows.loc["Half", "test"] == C.TEST
    paper = table[table["kind"] == C.PAPER]
    assert len(paper) == len(C.PAPER_ONLY) and table.index[-len(paper):].tolist() == \
        list(range(len(rerun), len(table)))
    assert paper.set_index("method").loc["Ours (paper, ResNet-50)", "accuracy"] == \
        pytest.approx(0.7665)
    assert paper["n"].isna().all() and paper["p_vs_ours"].isna().all()


def test_ours_row_is_the_mean_of_its_runs_with_the_t_interval():
    ids = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]
    run0 = pd.Series([1, 1, 1, 1, 0, 0, 0, 0], index=ids, dtype=float)       # 4 / 4 right
    runs = pd.DataFrame({"post_id": ids, "r0": run0.to_numpy(),
                         "r1": [1, 1, 1, 0, 0, 0, 0, 1],                      # 3 / 4 right
                         "r2": [1, 0, 0, 0, 0, 1, 1, 1]})                     # 1 / 4 right
    table = C.comparison_table({"Ours": run0}, _pairs(), "Ours", [], 0, reference_runs=runs)
    ours = table.set_index("method").loc["Ours"]
    # Runs 1.0, 0.75, 0.25: mean 2/3, sd 0.381881, t_0.975,2 = 4.302653:
    # half-width 4.302653 * 0.381881 / sqrt(3) = 0.948646.
    assert ours["accuracy"] == pytest.approx(2 / 3) and ours["runs"] == 3
    assert ours["ci_low"] == pytest.approx(2 / 3 - 0.948646, abs=1e-5)
    assert ours["ci_high"] == pytest.approx(2 / 3 + 0.948646, abs=1e-5)
    assert ours["interval"] == C.OVER_RUNS and ours["n"] == 4


def test_human_row_counts_ties_half_and_tests_against_the_model_on_its_pairs():
    table = pd.DataFrame({"a_post_id": ["a1", "a2", "a3", "a4"],
                          "b_post_id": ["b1", "b2", "b3", "b4"],
                          "majority_correct": [1.0, 1.0, 0.5, 0.0]})
    ours = pd.Series({"a1": 2.0, "b1": 1.0, "a2": 0.0, "b2": 1.0, "a3": 5.0, "b3": 1.0,
                      "a4": 3.0, "b4": 1.0})
    row = C.human_row(table, ours, 0, "Human")
    assert row["accuracy"] == pytest.approx(2.5 / 4) and row["n"] == 4
    assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
    # The tie (pair 3) is left out of McNemar. Decided pairs 1, 2, 4: humans right on 1, 2, the
    # model on 1, 4: b = 1 (pair 2), c = 1 (pair 4), exact two-sided p = 1.0.
    assert row["mcnemar_p"] == pytest.approx(1.0)
    # A model wrong on every decided pair: b = 2 (pairs 1, 2), c = 0, exact p = 2 * 0.5^2 = 0.5.
    wrong_model = ours.copy()
    wrong_model[["a1", "a2", "a4"]] = -10.0
    assert C.human_row(table, wrong_model, 0, "Human")["mcnemar_p"] == pytest.approx(0.5)


def test_split_pairs_draws_a_reproducible_subset_in_order():
    pairs = pd.DataFrame({"a_post_id": [f"a{i}" for i in range(10)],
                          "b_post_id": [f"b{i}" for i in range(10)],
                          "split": ["train"] * 8 + ["test"] * 2})
    one = E.split_pairs(pairs, "train", 5, np.random.default_rng(3))
    two = E.split_pairs(pairs, "train", 5, np.random.default_rng(3))
    assert len(one) == 5 and one.equals(two)
    numbers = [int(x[1:]) for x in one["a_post_id"]]
    assert numbers == sorted(numbers) and max(numbers) < 8
    assert len(E.split_pairs(pairs, "test", 5, np.random.default_rng(3))) == 2
    assert list(paired_post_ids(pairs.iloc[:2])) == ["a0", "a1", "b0", "b1"]


def test_load_images_resizes_and_names_a_broken_file(tmp_path):
    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "red.png")
    Image.new("RGB", (4, 4), (0, 0, 255)).save(tmp_path / "blue.png")
    out = E.load_images([tmp_path / "red.png", tmp_path / "blue.png"], size=8)
    assert out.shape == (2, 8, 8, 3) and out.dtype == np.uint8
    assert tuple(out[0, 3, 3]) == (255, 0, 0) and tuple(out[1, 7, 7]) == (0, 0, 255)
    (tmp_path / "bad.jpg").write_text("not an image")
    with pytest.raises(ImageError, match="bad.jpg"):
        E.load_images([tmp_path / "bad.jpg"], size=8)


class _Brightness(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=(1, 2, 3))


def test_user_folder_is_ranked_brightest_first_and_skips_are_kept(tmp_path):
    from i2pa_core.evaluate.scoring import PAPER_REFERENCE

    folder = tmp_path / "photos"
    folder.mkdir()
    for name, grey in (("dark.png", 20), ("bright.png", 220), ("mid.png", 120)):
        Image.new("RGB", (16, 16), (grey,) * 3).save(folder / name)
    (folder / "broken.jpg").write_bytes(b"")
    stage = E.EvaluateStage(user_folder=str(folder))
    summary, scores = E.user_inputs(stage, _Brightness(), "official", PAPER_REFERENCE, 0)
    assert summary["user_pairs"] is None
    assert summary["user_folder"] == {"folder": str(folder), "scored": 3, "skipped": 1}
    names = [p.split("/")[-1] for p in scores["path"]]
    assert names == ["bright.png", "mid.png", "dark.png", "broken.jpg"]
    assert list(scores["rank"]) == [1, 2, 3, 0]
    assert "empty" in scores["error"].iloc[-1]


def test_user_inputs_name_the_params_key_of_a_missing_folder(tmp_path):
    from i2pa_core.evaluate.scoring import PAPER_REFERENCE

    with pytest.raises(ValueError, match="evaluate.user_folder"):
        E.user_inputs(E.EvaluateStage(user_folder=str(tmp_path / "nope")), _Brightness(),
                      "official", PAPER_REFERENCE, 0)
    with pytest.raises(ValueError, match="evaluate.user_images"):
        E.user_inputs(E.EvaluateStage(user_pairs="pairs.csv"), _Brightness(), "official",
                      PAPER_REFERENCE, 0)
    summary, scores = E.user_inputs(E.EvaluateStage(), _Brightness(), "official",
                                    PAPER_REFERENCE, 0)
    assert summary == {"user_pairs": None, "user_folder": None}
    assert list(scores.columns) == E.USER_SCORE_COLUMNS and scores.empty


def test_user_pairs_are_evaluated_on_the_images_that_exist(tmp_path):
    from i2pa_core.evaluate.scoring import PAPER_REFERENCE

    images = tmp_path / "img"
    images.mkdir()
    for name, grey in (("h1", 200), ("l1", 10), ("h2", 30), ("l2", 100)):
        Image.new("RGB", (8, 8), (grey,) * 3).save(images / f"{name}.jpg")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("Low_popularity,High_popularity\nl1,h1\nl2,h2\nl3,h3\n")
    stage = E.EvaluateStage(user_pairs=str(pairs), user_images=str(images))
    summary, _ = E.user_inputs(stage, _Brightness(), "official", PAPER_REFERENCE, 0)
    result = summary["user_pairs"]
    # Pair 1 right (200 > 10), pair 2 wrong (30 < 100), pair 3 lacks both images.
    assert result["n"] == 2 and result["accuracy"] == pytest.approx(0.5)
    assert result["missing"] == 2 and result["pairs_skipped"] == 1


def test_comparison_metrics_are_percent_and_paper_rows_have_no_n():
    table = pd.DataFrame({"method": ["Ours", "Paper"], "kind": [C.RE_RUN, C.PAPER],
                          "accuracy": [0.9, 0.7665], "n": [100, np.nan],
                          "ci_low": [0.85, np.nan], "ci_high": [0.95, np.nan],
                          "interval": [C.OVER_RUNS, ""], "runs": [3, np.nan],
                          "mcnemar_p": [np.nan, np.nan], "p_vs_ours": [np.nan, np.nan],
                          "test": ["", ""]})
    out = C.comparison_metrics(table)
    assert out["Ours"]["accuracy"] == pytest.approx(90.0) and out["Ours"]["n"] == 100
    assert out["Ours"]["ci_low"] == pytest.approx(85.0) and out["Ours"]["runs"] == 3
    assert out["Ours"]["interval"] == C.OVER_RUNS
    assert out["Paper"]["n"] is None and out["Paper"]["kind"] == C.PAPER
    assert out["Paper"]["interval"] is None and out["Paper"]["runs"] is None


def test_percent_table_prints_p_in_scientific_notation_and_underflow():
    table = pd.DataFrame({"method": ["A", "B"], "accuracy": [0.5, 0.6], "ci_low": [0.4, 0.5],
                          "ci_high": [0.6, 0.7], "n": [10, 20], "runs": [np.nan, 3],
                          "mcnemar_p": [1.0e-5, 0.0], "p_vs_ours": [2.0e-5, 0.0]})
    out = C.percent_table(table)
    assert out["mcnemar_p"].tolist() == ["1.0e-05", "< 1e-300"]
    assert out["p_vs_ours"].tolist() == ["2.0e-05", "< 1e-300"]
    assert out["runs"].tolist() == ["", "3"] and out["n"].tolist() == ["10", "20"]


def test_generalisation_rows_are_percent_with_the_paper_where_comparable():
    table = pd.DataFrame({"variant": ["reddit", "flickr"], "construction": ["pdip", "pdip"],
                          "n": [100, 50], "accuracy": [0.7, 0.8], "ci_low": [0.6, 0.7],
                          "ci_high": [0.8, 0.9], "oracle_accuracy": [0.9, 0.95],
                          "oracle_ci_low": [0.85, 0.9], "oracle_ci_high": [0.95, 1.0],
                          "simulate_s": [1.0, 2.0], "score_s": [3.0, 4.0]})
    out, entries = E.generalisation_rows(table)
    assert "simulate_s" not in out.columns and "score_s" not in out.columns
    assert out["accuracy (%)"].tolist() == pytest.approx([70.0, 80.0])
    assert out["paper"].iloc[0].startswith("58.9 %") and out["paper"].iloc[1] == "-"
    assert entries[0] == {"label": "reddit platform, pdip pairs", "accuracy": pytest.approx(70.0),
                          "ci_low": pytest.approx(60.0), "ci_high": pytest.approx(80.0),
                          "n": 100, "oracle": pytest.approx(90.0),
                          "paper": E.PAPER_GENERALISATION[("reddit", "pdip")]}
