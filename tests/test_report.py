"""The README results block: read metrics, render rows, splice between the markers."""

import json

import pytest

from i2pa_core.stages import report as R


def _write(root, stage, obj):
    (root / stage).mkdir(parents=True, exist_ok=True)
    (root / stage / "metrics.json").write_text(json.dumps(obj))


def test_splice_replaces_only_the_block_between_the_markers():
    readme = f"intro\n{R.BEGIN}\nold table\n{R.END}\nafter\n"
    out = R.splice(readme, "new table\n")
    assert out == f"intro\n{R.BEGIN}\nnew table\n{R.END}\nafter\n"
    assert R.splice(out, "new table\n") == out  # idempotent
    with pytest.raises(ValueError, match="README.md"):
        R.splice("no markers here", "x")


def test_rows_come_from_the_metrics_files_with_ci_and_n(tmp_path):
    _write(tmp_path, "train", {"test_accuracy": 94.56, "test_ci_low": 93.92,
                               "test_ci_high": 95.14, "test_n": 5000, "oracle_accuracy": 95.68})
    _write(tmp_path, "evaluate", {"simulated": True, "comparison": {
        "Random": {"accuracy": 50.3, "ci_low": 48.9, "ci_high": 51.7, "n": 5000}}})
    rows = R.result_rows(R.read_metrics(tmp_path))
    by_name = {r[0]: r for r in rows}
    run0 = "ours, test accuracy of run 0 (the model of every figure)"
    assert by_name[run0][2] == ("94.56 % [93.92, 95.14] (95 % bootstrap over test pairs), "
                                "n = 5,000 test pairs")
    assert "ours, test accuracy, mean of its training runs" not in by_name  # one run
    assert by_name["Random"][2] == ("50.30 % [48.90, 51.70] (95 % bootstrap over test pairs), "
                                    "n = 5,000 test pairs")
    assert by_name["oracle (hidden intrinsic score), same pairs"][2] == \
        "95.68 % (ground truth, no interval), n = 5,000 test pairs"
    assert "posts / users" not in by_name  # no simulate metrics: no row, nothing invented
    _write(tmp_path, "beyond", {"rows": [{"label": "beyond the paper: hinge loss", "paper": "-",
                                          "accuracy": 86.4, "ci_low": 84.2, "ci_high": 88.4,
                                          "n": 1000, "runs": 3, "interval": "runs"}]})
    row = {r[0]: r for r in R.result_rows(R.read_metrics(tmp_path))}["beyond the paper: hinge loss"]
    assert row[1:] == ("-", "86.40 % [84.20, 88.40] (95 % t over 3 training runs), n = 1,000 "
                            "test pairs per run", "results/beyond/metrics.json")
    _write(tmp_path, "train", {"test_accuracy": 94.56, "test_ci_low": 93.92,
                               "test_ci_high": 95.14, "test_n": 5000,
                               "runs": {"runs": 3, "mean": 94.0, "ci_low": 93.0, "ci_high": 95.0,
                                        "n": 5000, "interval": "t over training runs"}})
    by_name = {r[0]: r for r in R.result_rows(R.read_metrics(tmp_path))}
    assert by_name["ours, test accuracy, mean of its training runs"][2] == (
        "94.00 % [93.00, 95.00] (95 % t over 3 training runs), n = 5,000 test pairs per run")
    assert "simulated platform" in R.render(R.read_metrics(tmp_path))


def test_main_writes_summary_and_readme_and_refuses_a_readme_without_markers(tmp_path, capsys):
    results = tmp_path / "results"
    _write(results, "human", {"single_mean_pct": 67.8, "single_std_pct": 4.5})
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{R.BEGIN}\n{R.END}\n")
    summary = tmp_path / "summary.md"
    figures = tmp_path / "figures_README.md"
    args = ["--results", str(results), "--summary", str(summary), "--readme", str(readme),
            "--figures-readme", str(figures)]
    assert R.main(args) == 0
    # The paper's numbers as its tables print them (typed here by hand from the paper).
    text = figures.read_text()
    assert "| 76.65 / 75.61 / 74.35 / 73.10 / 68.55 |" in text
    assert "AlexNet 73.22, VGGNet 76.15, ResNet-50 76.65, ResNet-101 76.87" in text
    assert ("Random 50, Virality Detection 53.21, Khosla14 54.39, Hessel17 65.54, LikelyAI "
            "68.87, Human 72.40, Ours 76.65") in text
    assert "mean 2.96, std 1.55" in text and "Single 66.6 ± 4.4" in text
    assert "67.8 ± 4.5 %" in summary.read_text()
    assert summary.read_text() in readme.read_text()
    readme.write_text("# no markers\n")
    assert R.main(args) == 2
    assert "markers" in capsys.readouterr().err
    (results / "human" / "metrics.json").write_text("{broken")
    readme.write_text(f"{R.BEGIN}\n{R.END}\n")
    assert R.main(args) == 2
    assert "metrics.json" in capsys.readouterr().err
