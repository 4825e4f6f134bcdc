"""The figures after review (issue 14): what Fig. 5 fits, the 0-100 scale as an empirical
percentile, Fig. 1's post, Fig. 4's panels and annotations, the log-odds axis of accuracy by P,
Fig. 9's grid and the figures map's Fig. 8 row. Logic against hand-computed values or
independent formulas; figures by what they draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats

from i2pa_core.evaluate.score_scale import (EMPIRICAL, GAUSSIAN, PAPER_REFERENCE,
                                            ScoreReference, empirical_percentile)
from i2pa_core.human.figures import accuracy_by_p_figure, fig9_examples, logit_bins, p_label
from i2pa_core.plots import comparison as C
from i2pa_core.plots.paper import image_structure, pick_card_post
from i2pa_core.plots.results import score_histogram
from i2pa_core.plots.score_fit import bic, describe_scores, fit_mixture
from i2pa_core.plots.style import PALETTE, plt
from i2pa_core.stages.figures_readme import figures_readme
from i2pa_core.train.results import add_score_reference, score_reference


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# --- Fig. 5: one Gaussian or a mixture, by BIC ------------------------------------------------

def _bimodal(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    first = rng.random(n) < 0.3
    return np.where(first, rng.normal(-3.0, 1.0, n), rng.normal(2.0, 0.5, n))


def test_bic_of_one_gaussian_by_hand():
    # [1..5]: mean 3, variance 2; ln L = -5/2 ln(4 pi) - 5/2 = -8.8275605;
    # BIC = 2 ln 5 - 2 ln L = 3.2188758 + 17.655121 = 20.873997.
    fit = fit_mixture([1, 2, 3, 4, 5, np.nan], 1)
    assert fit.means == pytest.approx((3.0,)) and fit.sds == pytest.approx((np.sqrt(2.0),))
    assert fit.loglik == pytest.approx(-8.8275605, abs=1e-6)
    assert fit.bic == pytest.approx(20.873997, abs=1e-5)
    assert bic(-8.8275605, 2, 5) == pytest.approx(20.873997, abs=1e-5)


def test_em_recovers_a_known_mixture_and_beats_the_truth_likelihood():
    x = _bimodal()
    fit = fit_mixture(x, 2)
    assert fit.converged
    assert fit.weights == pytest.approx((0.3, 0.7), abs=0.01)
    assert fit.means == pytest.approx((-3.0, 2.0), abs=0.03)
    assert fit.sds == pytest.approx((1.0, 0.5), abs=0.03)
    truth = np.log(0.3 * stats.norm.pdf(x, -3, 1) + 0.7 * stats.norm.pdf(x, 2, 0.5)).sum()
    assert fit.loglik >= truth  # the maximum-likelihood fit is at least as likely as the truth
    grid = np.linspace(-8, 5, 7)
    assert fit.pdf(grid) == pytest.approx(fit.component_pdfs(grid).sum(axis=1))


def test_bic_keeps_one_gaussian_for_gaussian_scores_and_two_for_bimodal_ones():
    gaussian = describe_scores(np.random.default_rng(1).normal(0.5, 2.0, 5000))
    assert gaussian["best"].components == 1 and gaussian["delta_bic"] == 0
    bimodal = describe_scores(_bimodal(5000))
    assert bimodal["best"].components == 2 and bimodal["delta_bic"] > 100
    with pytest.raises(ValueError, match="at least 6"):
        fit_mixture([1.0, 2, 3, 4, 5], 2)


def _legend_outside(fig) -> bool:
    fig.canvas.draw()
    ax = fig.axes[0]
    return ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1


def test_score_histogram_draws_the_mixture_and_quotes_the_paper_beside_the_bars():
    fig = score_histogram(_bimodal(5000))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[1].startswith("mixture of 2 Gaussians (lowest BIC")
    assert any(l.startswith("component 1: weight 0.3") for l in labels)
    assert any(l.startswith("one Gaussian (rejected)") for l in labels)
    assert "mean 2.96, std 1.55" in labels[-1] and "paper's Fig. 5" in labels[-1]
    assert _legend_outside(fig)
    x = np.random.default_rng(1).normal(0.5, 2.0, 5000)
    one = score_histogram(x, paper_fit=None)
    labels = [t.get_text() for t in one.axes[0].get_legend().get_texts()]
    assert labels == [f"scores (n = 5,000)",
                      f"one Gaussian (lowest BIC): mean {x.mean():.2f}, std {x.std():.2f}"]
    assert _legend_outside(one)


# --- the 0-100 scale: empirical percentile of the reference scores ----------------------------

def test_empirical_percentile_by_hand():
    q = [1, 2, 3, 4, 5]  # levels 0, 25, 50, 75, 100
    got = empirical_percentile([3, 1.5, 4.75, 0, 1, 5, 6, np.nan], q)
    assert got[:7] == pytest.approx([50, 12.5, 93.75, 0, 0, 100, 100]) and np.isnan(got[7])
    ties = [1, 2, 2, 3]  # levels 0, 1/3, 2/3, 1: a tie takes the middle of its levels
    assert empirical_percentile([2, 2.5, 1.5], ties) == pytest.approx([50, 250 / 3, 50 / 3])
    assert float(empirical_percentile(3.0, q)) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="increasing"):
        empirical_percentile(1.0, [3, 2, 1])


def test_reference_quantiles_give_the_percentile_of_the_scores():
    ref = score_reference(np.r_[np.arange(11.0), np.nan], "eleven scores")
    # 0..10: the quantile at level k/1000 is k/100, so 2.5 is the 25th percentile.
    assert len(ref["quantiles"]) == 1001 and ref["quantiles"][250] == pytest.approx(2.5)
    assert (ref["n"], ref["mean"], ref["std"]) == (11, 5.0, pytest.approx(np.sqrt(10.0)))
    scale = ScoreReference.from_meta({"score_reference": ref})
    assert scale.scale == EMPIRICAL
    assert scale.to_100([2.5, 7.25, -1, 11]) == pytest.approx([25.0, 72.5, 0.0, 100.0])
    assert scale.describe() == "empirical percentile among 11 scores of eleven scores"


def test_old_checkpoints_keep_the_gaussian_scale():
    old = ScoreReference.from_meta({"score_reference": {"mean": 0.0, "std": 2.0,
                                                        "source": "old run"}})
    assert old.scale == GAUSSIAN and old.quantiles is None
    assert old.to_100(2.0) == pytest.approx(84.1345, abs=1e-4)
    assert "Gaussian fit (mean 0, std 2) of old run" in old.describe()
    assert ScoreReference.from_meta(None) == PAPER_REFERENCE
    assert PAPER_REFERENCE.scale == GAUSSIAN


def _checkpoint(path, meta):
    import torch

    from i2pa_core.model.scorer import build_scorer

    torch.manual_seed(0)
    torch.save({"model": build_scorer("smallcnn").state_dict(), "meta": meta, "optimizer": {},
                "scheduler": {}, "epoch": 0, "history": [], "best": 0.0}, path)


def test_add_score_reference_stores_the_quantiles(tmp_path):
    from i2pa_core.io.checkpoint import load_checkpoint

    _checkpoint(tmp_path / "best.pt", {"backbone": "smallcnn", "preset": "synthetic"})
    summary = add_score_reference(tmp_path / "best.pt", pd.DataFrame({"score": np.arange(11.)}),
                                  "validation images of X", (8, 8), "X")
    assert "quantiles" not in summary and summary["median"] == pytest.approx(5.0)
    assert summary["scale"] == EMPIRICAL and summary["n"] == 11
    meta = load_checkpoint(tmp_path / "best.pt")["meta"]
    assert ScoreReference.from_meta(meta).to_100(2.5) == pytest.approx(25.0)
    assert meta["input_size"] == [8, 8] and meta["data_source"] == "X"


@pytest.fixture
def cli(monkeypatch):
    from i2pa_core.cli import data as cli_verbs
    from i2pa_core.cli.main import main
    from i2pa_core.cli.score import register_score

    if not any(getattr(r, "__name__", "") == "register_score" for r in cli_verbs.REGISTER):
        monkeypatch.setattr(cli_verbs, "REGISTER", [*cli_verbs.REGISTER, register_score])
    return main


def test_score_and_rank_use_and_name_the_scale(tmp_path, cli, capsys):
    import json

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.new("RGB", (32, 32), (60 * i, 90, 200 - 50 * i)).save(photos / f"{i}.png")
    # Reference scores -100..100 evenly: the percentile of s is (s + 100) / 2 for |s| <= 100.
    ref = score_reference(np.linspace(-100, 100, 11), "ten steps")
    _checkpoint(tmp_path / "new.pt", {"backbone": "smallcnn", "preset": "synthetic",
                                      "input_size": [32, 32], "score_reference": ref})
    assert cli(["score", str(photos), "--weights", str(tmp_path / "new.pt"), "--format",
                "json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert rows["model"]["score_100_scale"].startswith("empirical percentile among 11 scores")
    assert "0-100 scale: empirical percentile" in err
    for row in rows["rows"]:
        assert row["score_100"] == pytest.approx((row["score"] + 100) / 2)
    _checkpoint(tmp_path / "old.pt", {"backbone": "smallcnn", "preset": "synthetic",
                                      "score_reference": {"mean": 0.1, "std": 0.2}})
    assert cli(["rank", str(photos), "--weights", str(tmp_path / "old.pt"), "--format",
                "csv", "--quiet"]) == 0
    out, err = capsys.readouterr()
    table = pd.read_csv(__import__("io").StringIO(out))
    assert len(table) == 3 and table["score_100_scale"].str.startswith("Gaussian").all()
    assert table["score_100"].to_numpy() == pytest.approx(
        100 * stats.norm.cdf((table["score"].to_numpy() - 0.1) / 0.2))
    assert "0-100 scale: Gaussian percentile under a Gaussian fit (mean 0.1, std 0.2)" in err


# --- Fig. 1: a representative post -------------------------------------------------------------

def _halves(n=16):
    image = np.zeros((n, n, 3), np.uint8)
    image[:, n // 2:] = 255
    return image


def test_image_structure_by_hand():
    assert image_structure(_halves()) == pytest.approx(0.5)   # block means 0 and 1, half each
    assert image_structure(np.full((16, 16, 3), 90, np.uint8)) == pytest.approx(0, abs=1e-12)
    checker = (np.indices((16, 16)).sum(0) % 2 * 255).astype(np.uint8)
    noise = np.repeat(checker[..., None], 3, axis=2)            # pixel sd 0.5, no structure
    assert noise.std() / 255 == pytest.approx(0.5)
    assert image_structure(noise) == pytest.approx(0, abs=1e-12)


def test_pick_card_post_skips_empty_and_flat_posts():
    ids = [f"p{i}" for i in range(9)]
    scores = pd.Series(np.arange(9.0), index=ids)       # median p4
    structured = {"p4", "p6", "p8"}
    loaded = []
    loader = lambda pid: loaded.append(pid) or (  # noqa: E731
        _halves() if pid in structured else np.full((16, 16, 3), 90, np.uint8))
    rng = lambda: np.random.default_rng(0)  # noqa: E731
    assert pick_card_post(scores, loader, rng()) == "p4"
    categories = pd.Series(["food"] * 9, index=ids).mask(scores.index == "p4", "empty")
    # p4 is "empty" by ground truth; p3, p5 (mid-rank distance 1/9) are flat; next p6.
    loaded.clear()
    assert pick_card_post(scores, loader, rng(), categories) == "p6"
    assert loaded == ["p3", "p5", "p2", "p6"]
    wide = [pick_card_post(scores, loader, np.random.default_rng(s), categories, band=0.5)
            for s in range(6)]
    assert set(wide) <= {"p6", "p8"} and len(set(wide)) == 2
    assert wide == [pick_card_post(scores, loader, np.random.default_rng(s), categories,
                                   band=0.5) for s in range(6)]   # deterministic per seed
    def faint(pid):  # p1: halves 90 and 110, structure 10 / 255 = 0.039 < 0.07; the rest flat
        image = np.full((16, 16, 3), 90, np.uint8)
        image[:, 8:] += 20 * (pid == "p1")
        return image

    assert image_structure(faint("p1")) == pytest.approx(10 / 255)
    assert pick_card_post(scores, faint, rng(), categories) == "p1"  # none passes: the most


# --- Fig. 4: two panels, every bar annotated ---------------------------------------------------

TABLE = pd.DataFrame({
    "method": ["Ours", "Oracle", "Human majority (simulated panel)", "Random", "Khosla14 (paper)",
               "Human (paper)"],
    "kind": ["re-run", "oracle (ground truth)", "simulated panel", "re-run",
             "reported in the paper", "reported in the paper"],
    "accuracy": [0.9213, 0.938, 0.685, 0.497, 0.5439, 0.724],
    "ci_low": [0.91, 0.93, 0.62, 0.48, np.nan, np.nan],
    "ci_high": [0.93, 0.945, 0.745, 0.51, np.nan, np.nan],
    "interval": ["t over runs", "bootstrap over test pairs", "bootstrap over test pairs",
                 "bootstrap over test pairs", "", ""],
    "n": [5000, 5000, 200, 5000, 50000, 1000], "runs": [3, np.nan, np.nan, np.nan, np.nan, np.nan],
    "p_vs_ours": [np.nan, 1.234e-5, 0.0031, 0.0, np.nan, np.nan],
    "test": ["", "McNemar (Holm)", "McNemar (Holm)", "McNemar (Holm)", "", ""]})


def test_comparison_bars_separates_our_runs_from_the_paper():
    fig = C.comparison_bars(TABLE, "the simulated platform", ours="Ours")
    fig.canvas.draw()
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == list(TABLE["method"][:4])
    assert [t.get_text() for t in right.get_yticklabels()] == list(TABLE["method"][4:])
    assert left.get_title(loc="left") == "This package's runs on the simulated platform"
    assert right.get_title(loc="left").startswith("Reported in the paper (Instagram")
    for ax in (left, right):
        assert ax.get_xlim()[0] == 0 and 50 in [line.get_xdata()[0] for line in ax.lines]
    colours = [b.get_facecolor()[:3] for b in left.patches]
    expected = [PALETTE[0], PALETTE[2], PALETTE[3], PALETTE[0]]
    from matplotlib.colors import to_rgb
    assert colours == [pytest.approx(to_rgb(c)) for c in expected]
    assert [b.get_width() for b in left.patches] == pytest.approx([92.13, 93.8, 68.5, 49.7])
    assert all(b.get_hatch() == "///" for b in right.patches)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:4] == list(C.KINDS)
    texts = _texts(fig)
    for piece in ("92.1 %", "n = 5,000 test pairs \u00b7 mean of 3 runs \u00b7 95 % CI: t over runs",
                  "p = 1.2e-05 against ours (McNemar (Holm))", "p < 1e-300 against ours "
                  "(McNemar (Holm))", "n = 200 test pairs \u00b7 95 % CI: bootstrap over test "
                  "pairs", "n = 50,000 test pairs \u00b7 no interval reported", "72.4 %", "chance",
                  "ours: the reference of the p-values"):
        assert piece in texts, piece


def test_comparison_bars_checks_kinds_and_reads_the_older_table():
    with pytest.raises(ValueError, match="re-run, simulated panel, oracle"):
        C.comparison_bars(TABLE.assign(kind="guess"))
    old = pd.DataFrame({"method": ["Oracle (hidden intrinsic score)", "Ours",
                                   "Human majority (simulated panel)", "Khosla14 (paper)"],
                        "source": ["re-run", "re-run", "re-run", "paper"],
                        "accuracy": [0.93, 0.92, 0.68, 0.54], "n": [5000, 5000, 200, np.nan],
                        "ci_low": [0.92, 0.91, 0.6, np.nan], "ci_high": [0.94, 0.93, 0.75, np.nan],
                        "mcnemar_p": [0.01, np.nan, 0.02, np.nan]})
    new = C.from_source_table(old)
    assert list(new["kind"]) == ["oracle (ground truth)", "re-run", "simulated panel",
                                 "reported in the paper"]
    assert list(new["interval"]) == ["bootstrap over test pairs"] * 3 + [""]
    assert list(new["test"]) == ["McNemar", "", "McNemar", ""]
    assert len(C.comparison_bars(old).axes) == 2
    only_ours = C.comparison_bars(TABLE[TABLE["kind"] != "reported in the paper"])
    assert len(only_ours.axes) == 1


# --- accuracy against P on the log-odds axis ---------------------------------------------------

def test_logit_bins_by_hand():
    ln9 = np.log(9.0)  # logit(0.9); logit(0.5) = 0
    left, right, centre = logit_bins([0.5, 0.9], [0.9, 1.0])   # the open bin takes ln 9 too
    assert left == pytest.approx([0, ln9]) and right == pytest.approx([ln9, 2 * ln9])
    assert centre == pytest.approx([ln9 / 2, 1.5 * ln9])
    assert logit_bins([0.9], [1.0])[1] == pytest.approx([ln9 + np.log(10.0)])
    assert [p_label(p) for p in (0.9499, 0.99, 0.9999, 1.0, 0.975)] == [
        "0.95", "0.99", "0.9999", "1", "0.975"]


def test_accuracy_by_p_bins_separate():
    edges = [0.9499, 0.99, 0.999, 0.9999, 1.0]
    binned = pd.DataFrame({"p_low": edges[:-1], "p_high": edges[1:], "n_pairs": [40, 50, 30, 20]})
    for key, value in (("majority", 70.0), ("single", 62.0), ("model", 90.0)):
        binned[key], binned[f"{key}_low"], binned[f"{key}_high"] = value, value - 8, value + 8
    fig = accuracy_by_p_figure(binned, "NOTE")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.95", "0.99", "0.999", "0.9999",
                                                            "\u2192 1"]
    majority = ax.containers[0].lines[0].get_xdata()
    assert np.diff(majority) == pytest.approx(np.diff(logit_bins(edges[:-1], edges[1:])[2]))
    assert np.min(np.diff(majority)) > 1.9    # a linear axis put three bins within 0.001
    assert "n = 20" in _texts(fig) and ax.get_title() == "NOTE"


# --- Fig. 9: a grid, title above -----------------------------------------------------------------

def test_fig9_is_a_grid_with_the_title_above(tmp_path):
    plan, rows = {"posts": {}}, []
    groups = ["both right", "humans wrong, model right", "model wrong, humans right",
              "both against the likes"]
    for g, group in enumerate(groups):
        for k in range(2):
            ids = (f"A{g}{k}", f"B{g}{k}")
            for i, post in enumerate(ids):
                Image.new("RGB", (8, 8), (40 * g, 100 * i, 30)).save(tmp_path / f"{post}.png")
                plan["posts"][post] = {"image": f"{post}.png", "likes": 100 + 10 * g + i}
            rows.append({"group": group, "a_post_id": ids[0], "b_post_id": ids[1],
                         "share_a": 0.8, "share_b": 0.2, "score_a": 1.0, "score_b": 0.5})
    fig = fig9_examples(pd.DataFrame(rows), plan, tmp_path, "NOTE")
    fig.canvas.draw()
    boxes = [ax.get_window_extent() for ax in fig.axes]
    assert len(boxes) == 16
    assert len({round(b.x0) for b in boxes}) == 4 and len({round(b.y0) for b in boxes}) == 4
    assert fig.get_figwidth() > fig.get_figheight() * 0.75
    assert fig._suptitle.get_window_extent().y0 >= max(b.y1 for b in boxes)
    assert "NOTE" in fig._suptitle.get_text()
    assert [ax.get_ylabel() for ax in fig.axes[::4]] == [g.replace(", ", ",\n") for g in groups]


# --- Fig. 8 in the figures map -------------------------------------------------------------------

def test_figures_map_says_fig8_is_made_by_the_browser_test():
    text = figures_readme()
    row = next(line for line in text.splitlines() if line.startswith("| Fig. 8"))
    assert "not written by `dvc repro`" in row and "tests/test_human_browser.py" in row
    assert "I2PA_WRITE_FIGURES=1" in row
    assert "except `fig8_experiment_page.png`" in text
    crawl = figures_readme("posts table c.csv, 9 posts")
    assert "simulated" not in crawl.lower() and "tests/test_human_browser.py" in crawl


def test_a_bar_of_one_training_run_says_so():
    row = {"n": 5000, "runs": 1, "interval": "bootstrap over test pairs", "ci_low": 0.87,
           "kind": C.RE_RUN, "p_vs_ours": np.nan, "test": ""}
    assert C.bar_details(pd.Series(row)) == [
        "n = 5,000 test pairs \u00b7 one training run \u00b7 95 % CI: bootstrap over test pairs"]
    row["runs"] = 3
    assert "mean of 3 runs" in C.bar_details(pd.Series(row))[0]
