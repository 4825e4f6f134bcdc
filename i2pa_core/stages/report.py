"""The README "Results" section, written by the pipeline (``report`` stage).

``python -m i2pa_core.stages.report`` reads the stages' ``results/*/metrics.json``, writes the table
of our numbers next to the paper's to ``figures/results_summary.md`` and replaces the block
between :data:`BEGIN` and :data:`END` in ``README.md`` with it, and writes ``figures/README.md``
(:mod:`i2pa_core.stages.figures_readme`; all written atomically). A
metrics file that a stage did not write leaves its rows out; nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from i2pa_core import paper
from i2pa_core.io.files import read_metrics as read_stage_metrics, write_text
from i2pa_core.stages.figures_readme import figures_readme

BEGIN = "<!-- results:begin (written by `dvc repro`, stage report; do not edit by hand) -->"
END = "<!-- results:end -->"
STAGES = ("simulate", "pairs", "train", "human", "evaluate", "tables", "beyond")


def read_metrics(results: Path) -> dict[str, dict]:
    """``{stage: metrics}`` for every ``results/<stage>/metrics.json`` that exists and was not
    skipped (a skipped stage's file says ``"skipped": true``)."""
    out = {}
    for stage in STAGES:
        path = results / stage / "metrics.json"
        if path.is_file():
            try:
                metrics = read_stage_metrics(path)   # with its details.json
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not valid JSON ({exc})") from None
            if not metrics.get("skipped"):
                out[stage] = metrics
    return out


def _pct(entry: dict) -> str:
    """``94.56 % [93.92, 95.14] (95 % bootstrap over test pairs), n = 5,000 test pairs`` from
    an entry (percent values): the interval says what it covers, from the entry's ``interval``
    (``runs`` or "t over training runs": the t interval over its ``runs``; otherwise the
    bootstrap over test pairs), and n is per run where the entry averages runs."""
    text = f"{entry['accuracy']:.2f} %"
    runs = entry.get("runs") or 1
    low, high = entry.get("ci_low"), entry.get("ci_high")
    if low is not None and high is not None and low == low and high == high:
        interval = entry.get("interval") or ("runs" if runs > 1 else "bootstrap over test pairs")
        covers = f"t over {runs} training runs" if "run" in interval else interval
        text += f" [{low:.2f}, {high:.2f}] (95 % {covers})"
    elif runs > 1:
        text += f" (mean of {runs} training runs, no interval)"
    if entry.get("n") is not None:
        text += f", n = {entry['n']:,} test pairs" + (" per run" if runs > 1 else "")
    return text


def result_rows(metrics: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """(quantity, paper, ours, file) rows from whatever metrics exist."""
    rows = []
    sim, pairs = metrics.get("simulate"), metrics.get("pairs")
    if sim:
        rows.append(("posts / users", f"{paper.CANDIDATE_POSTS} / {paper.CANDIDATE_USERS}",
                     f"{sim['n_posts']:,} / {sim['n_users']:,}", "results/simulate/metrics.json"))
    if pairs:
        rows.append(("PDIPs (train / val / test)",
                     f"{paper.N_PDIPS} ({paper.VAL_PDIPS:,} val, {paper.TEST_PDIPS:,} test)",
                     f"{pairs['n_pdips']:,} ({pairs['n_train']:,} / {pairs['n_val']:,} / "
                     f"{pairs['n_test']:,})", "results/pairs/metrics.json"))
        rows.append(("average P of the PDIPs", f"{paper.MEAN_P:.3f}", f"{pairs['mean_p']:.3f}",
                     "results/pairs/metrics.json"))
        if "label_precision_precision" in pairs:
            rows.append(("PDIP label precision (share agreeing with the hidden score)",
                         "unknown (no ground truth)",
                         f"{pairs['label_precision_precision']:.3f} "
                         f"[{pairs['label_precision_ci_low']:.3f}, "
                         f"{pairs['label_precision_ci_high']:.3f}], "
                         f"n = {pairs['label_precision_n_pairs']:,}", "results/pairs/metrics.json"))
    comparison = metrics.get("evaluate", {}).get("comparison", {})
    train = metrics.get("train")
    if train:
        reported = f"{paper.pct(paper.OURS)} (ResNet-50, n = {paper.TEST_PDIPS:,})"
        if train.get("runs", {}).get("runs", 1) > 1:
            rows.append(("ours, test accuracy, mean of its training runs", reported,
                         _pct({**train["runs"], "accuracy": train["runs"]["mean"]}),
                         "results/train/metrics.json"))
        rows.append(("ours, test accuracy of run 0 (the model of every figure)", reported,
                     _pct({"accuracy": train["test_accuracy"], "ci_low": train["test_ci_low"],
                           "ci_high": train["test_ci_high"], "n": train["test_n"]}),
                     "results/train/metrics.json"))
        if "oracle_accuracy" in train:
            rows.append(("oracle (hidden intrinsic score), same pairs", "-",
                         f"{train['oracle_accuracy']:.2f} % (ground truth, no interval), "
                         f"n = {train['test_n']:,} test pairs", "results/train/metrics.json"))
    paper_rows = {
        "Random": f"{paper.RANDOM:g} %",
        "Aesthetics proxy": f"{paper.pct(paper.VIRALITY_DETECTION)} (Virality Detection), "
                            f"{paper.pct(paper.LIKELYAI)} (LikelyAI)",
        "Khosla14 features, absolute likes": f"{paper.pct(paper.KHOSLA14)} (Khosla14)",
        "Khosla14 features, pairwise": "-",
        "Absolute-popularity MLP (image score + 6 non-visual features)":
            paper.pct(paper.MLP_ACCURACY, 1),
        **{f"Human majority ({kind})":
           f"{paper.pct(paper.HUMAN_MAJORITY)} ({paper.HUMAN_SUBJECTS} real subjects, "
           f"n = {paper.HUMAN_PAIRS:,})" for kind in ("simulated panel", "real subjects")}}
    for method, entry in comparison.items():
        if entry.get("kind", entry.get("source")) in ("reported in the paper", "paper") or \
                method == "Ours" or method.startswith("Oracle"):
            continue
        rows.append((method, paper_rows.get(method, "-"), _pct(entry),
                     "results/evaluate/metrics.json"))
    human = metrics.get("human")
    if human:
        panel = "simulated panel" if human.get("simulated_panel", True) else "real subjects"
        rows.append((f"single subject, mean ± std ({panel})",
                     "{:.1f} ± {:.1f} %".format(*paper.TABLE4["Single"]),
                     f"{human['single_mean_pct']:.1f} ± {human['single_std_pct']:.1f} %"
                     + (f" (sd over {human['n_subjects']} subjects), n = {human['n_pairs']:,} "
                        "test pairs" if "n_pairs" in human and "n_subjects" in human else ""),
                     "results/human/metrics.json"))
    mlp = metrics.get("evaluate", {}).get("popularity_mlp")
    if mlp and "skipped" in mlp:
        rows.append(("absolute-popularity MLP", paper.pct(paper.MLP_ACCURACY, 1),
                     f"not available: {mlp['skipped']}", "results/evaluate/details.json"))
    elif mlp:
        rows.append(("absolute-popularity MLP, Pearson with likes (train / test)",
                     f"{paper.MLP_PEARSON_TRAIN:.2f} / {paper.MLP_PEARSON_TEST:.2f}",
                     f"{mlp['pearson_train']:.2f} / {mlp['pearson_test']:.2f}",
                     "results/evaluate/metrics.json"))
    for entry in metrics.get("evaluate", {}).get("generalisation", []):
        rows.append((f"generalisation: {entry['label']}", entry.get("paper", "-"),
                     _pct(entry), "results/evaluate/metrics.json"))
    for stage in ("tables", "beyond"):
        for entry in metrics.get(stage, {}).get("rows", []):
            rows.append((entry["label"], entry.get("paper", "-"), _pct(entry),
                         f"results/{stage}/metrics.json"))
    return rows


def data_source(metrics: dict[str, dict]) -> str | None:
    """The crawl's data source named in the metrics (None: the simulated platform)."""
    label = metrics.get("pairs", {}).get("data_source")
    return None if label is None or label.startswith("simulated platform") else label


def render(metrics: dict[str, dict]) -> str:
    """The Markdown block: data source, then the table."""
    crawl = data_source(metrics)
    human = metrics.get("human", {})
    if crawl is None:
        source = ("the **simulated platform** (synthetic posts with known ground truth, not "
                  "Instagram); the human rows come from a **simulated observer panel**")
    else:
        answers = "real subjects' answers" if human else "none (no human answers)"
        source = f"{crawl} (`data.source: posts`); human rows: {answers}"
    lines = [f"Data: {source}. Paper numbers are the paper's, on Instagram. Every number below "
             "is read from the file named beside it; each accuracy says what its 95 % interval "
             "covers (bootstrap over test pairs, or t over training runs) and gives n.", "", "| quantity | paper | ours | file |", "|---|---|---|---|"]
    lines += [f"| {q} | {p} | {o} | `{f}` |" for q, p, o, f in result_rows(metrics)]
    return "\n".join(lines) + "\n"


def splice(readme: str, block: str, path: str = "README.md", begin: str = BEGIN,
           end: str = END) -> str:
    """Replace the text between the ``begin`` and ``end`` markers of ``readme`` (the results
    block's by default) with ``block``."""
    start, stop = readme.find(begin), readme.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"{path}: the markers {begin!r} and {end!r} are missing or out of order")
    return readme[:start + len(begin)] + "\n" + block + readme[stop:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i2pa_core.stages.report", description=__doc__)
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="folder with <stage>/metrics.json (default results)")
    parser.add_argument("--summary", type=Path, default=Path("figures/results_summary.md"),
                        help="Markdown file written with the table (default %(default)s)")
    parser.add_argument("--readme", type=Path, default=Path("README.md"),
                        help="README whose results block is replaced (default %(default)s)")
    parser.add_argument("--figures-readme", type=Path, default=Path("figures/README.md"),
                        help="the map of figures/ to the paper's artifacts, written from "
                        "i2pa_core.paper (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        metrics = read_metrics(args.results)
        block = render(metrics)
        readme = splice(args.readme.read_text(encoding="utf-8"), block, str(args.readme))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_text(args.summary, block)
    write_text(args.readme, readme)
    write_text(args.figures_readme, figures_readme(data_source(metrics)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
