"""Glue for the ``pairs`` stage: its params section, its engine, metrics, the policy yields, label
precision and the calibration of Eq. 6 (the last two need ground truth).

The posts table and the ground truth come from the ``data`` section (:mod:`i2pa_core.io.source`).
"""

from __future__ import annotations

import typing
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from i2pa_core.config import NoPairsError
from i2pa_core.pdip.calibration import (PairSet, binned_agreement, calibration_summary, p_edges,
                                        quantile_edges, rules_table, scored_pairs)
from i2pa_core.pdip.config import Engine, EngineConfig
from i2pa_core.pdip.engines import generate_on_engine
from i2pa_core.pdip.report import diagnose_funnel
from i2pa_core.pdip.sampler import PDIPConfig, PDIPResult, generate_pdips


@dataclass(frozen=True)
class PairsStage:
    """The ``pairs`` section of params.yaml: the PDIP rules plus the stage's analysis knobs.

    Attributes:
        rules: the PDIP rules and split sizes (:class:`~i2pa_core.pdip.config.PDIPConfig`).
        sweep_thresholds, sweep_sigmas: the T x sigma grid of the beyond-the-paper sweep.
        ablation_threshold: the relaxed T of the "relaxed threshold" ablation.
        cross_user_sample: users sampled for the expensive no-same-user ablation.
        engine, scheduler, workers, partitions: where the PDIP table is generated
            (:class:`~i2pa_core.pdip.config.EngineConfig`): ``inprocess``, ``streaming`` or
            ``dask``; the table is the same each way. The sweeps and ablations run in process.
    """

    rules: PDIPConfig = field(default_factory=PDIPConfig)
    sweep_thresholds: tuple[float, ...] = (0.8, 0.9, 0.95, 0.975, 0.99)
    sweep_sigmas: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5)
    ablation_threshold: float = 0.75
    cross_user_sample: int = 240
    engine: Engine = "inprocess"
    scheduler: str | None = None
    workers: int | None = None
    partitions: int | None = None

    def __post_init__(self):
        self.engine_config  # noqa: B018  (validates the engine keys: a named error)

    @property
    def engine_config(self) -> EngineConfig:
        return EngineConfig(self.engine, self.scheduler, self.workers, self.partitions)


def stage_pdips(stage: PairsStage, posts_path: str, posts: pd.DataFrame, seed: int,
                progress: bool = True, client=None) -> PDIPResult:
    """The stage's PDIP table on its engine (``posts`` is the validated ``posts_path``).

    ``streaming`` and ``dask`` read ``posts_path`` again (it must be Parquet), ``dask`` on the
    cluster or on ``client``, an open ``distributed.Client``, when one is given. Split sizes
    shrunk to fit and empty splits are warnings; no PDIP at all is a :class:`NoPairsError` that
    names the rule that removed most candidates and the param to relax.
    """
    result = generate_on_engine(posts_path, stage.rules, seed, stage.engine_config, posts,
                                progress, client)
    if not len(result.pairs):
        raise NoPairsError(f"{posts_path}: the PDIP funnel ends at 0 pairs; "
                           f"{diagnose_funnel(result.funnel)}")
    for note in result.warnings:
        warnings.warn(note, stacklevel=2)
    return result


def matching_policy_runs(posts: pd.DataFrame, cfg: PDIPConfig, seed: int
                         ) -> dict[str, PDIPResult]:
    """The PDIPs of each one-image-one-pair matching policy on the same posts (in process)."""
    return {policy: generate_pdips(posts, replace(cfg, matching=policy), seed)
            for policy in typing.get_args(typing.get_type_hints(PDIPConfig)["matching"])}


def matching_policy_counts(runs: dict[str, PDIPResult], cfg: PDIPConfig) -> pd.DataFrame:
    """How many PDIPs each matching policy of :func:`matching_policy_runs` yields."""
    return pd.DataFrame([{"matching": policy, "n_candidates": result.n_candidates,
                          "n_pdips": len(result.pairs), "default": policy == cfg.matching}
                         for policy, result in runs.items()])


def pairs_metrics(result, precision: dict | None, calibration: dict | None = None) -> dict:
    """Headline numbers of the PDIP database, for ``results/pairs/metrics.json``; with ground
    truth also label precision and the calibration of Eq. 6 (:func:`write_eq6_calibration`)."""
    pairs = result.pairs
    out = {"n_pdips": int(len(pairs)), "n_candidates": int(result.n_candidates),
           "n_users": int(pairs["user_id"].nunique()),
           "mean_p": float(pairs["p"].mean()) if len(pairs) else float("nan"),
           "mean_interval_days": float(pairs["interval_days"].mean()) if len(pairs) else float("nan")}
    out.update({f"n_{split}": int((pairs["split"] == split).sum())
                for split in ("train", "val", "test")})
    if precision is not None:
        out.update({f"label_precision_{k}": v for k, v in precision.items()})
    if calibration is not None:
        out.update({f"calibration_{k}": calibration[k]
                    for k in ("ece", "brier", "sigma_implied")})
        out["calibration_gap"] = calibration["calibration_gap"]
    return out


NO_TRUTH = "no ground truth (label precision needs the hidden intrinsic score of each post)"


def write_label_precision(posts: pd.DataFrame, truth: pd.DataFrame | None, stage: PairsStage,
                          seed: int, note: str) -> pd.DataFrame | None:
    """``figures/label_precision.*``: label precision of the PDIPs, the one-rule ablations and
    naive pairings, or "not available: no ground truth" (a crawl). Returns the table or None."""
    from i2pa_core.io.files import write_table
    from i2pa_core.pdip.sweep import label_precision_table, plot_label_precision
    from i2pa_core.plots.style import save_figure, write_not_available

    stem = "figures/label_precision"
    if truth is None:
        write_not_available(stem, NO_TRUTH, note)
        return None
    table = label_precision_table(posts, truth, stage.rules, seed, stage.cross_user_sample,
                                  stage.ablation_threshold)
    write_table(stem, table, f"Label precision of PDIPs, one-rule ablations and naive pairings. "
                             f"{note}")
    save_figure(plot_label_precision(table), stem, caption=note)
    return table


CALIBRATION_STEM = "figures/eq6_calibration"
CALIBRATION_RULES_STEM = "figures/eq6_calibration_rules"
NO_TRUTH_CALIBRATION = ("no ground truth (the calibration of Eq. 6 needs the hidden intrinsic "
                        "score of each post)")
GAP_BINS = 10  # equal-count bins of the like gap


@dataclass(frozen=True)
class Eq6Calibration:
    """What :func:`write_eq6_calibration` wrote: the bins, the policy and ablation table, and the
    summary of the stage's PDIPs (:func:`~i2pa_core.pdip.calibration.calibration_summary`)."""

    bins: pd.DataFrame
    rules: pd.DataFrame
    summary: dict


def eq6_pair_sets(posts: pd.DataFrame, truth: pd.DataFrame, stage: PairsStage, seed: int,
                  policy_runs: dict[str, PDIPResult]) -> list[PairSet]:
    """The paper's rules, each other matching policy and each one-rule ablation of the label
    precision table (:func:`~i2pa_core.pdip.sweep.ablation_configs`), as scored pair sets; the
    no-same-user ablation on the same user sample as there, beside the paper's rules on it."""
    from i2pa_core.pdip.sweep import ablation_configs

    rules, ref = stage.rules, "paper rules"
    sets = [_pair_set(ref, "rules", policy_runs[rules.matching].pairs, rules, truth)]
    for policy, run in policy_runs.items():
        if policy != rules.matching:
            sets.append(_pair_set(f"matching: {policy}", "policy", run.pairs,
                                  replace(rules, matching=policy), truth, ref))
    for name, cfg in ablation_configs(rules, stage.ablation_threshold).items():
        if name != ref:
            sets.append(_pair_set(name, "ablation", generate_pdips(posts, cfg, seed).pairs, cfg,
                                  truth, ref))
    sample, tag = _cross_user_sample(posts, stage.cross_user_sample, seed)
    cross = replace(rules, same_user=False)
    sets += [_pair_set(ref + tag, "rules", generate_pdips(sample, rules, seed).pairs, rules, truth),
             _pair_set("no same-user rule" + tag, "ablation",
                       generate_pdips(sample, cross, seed).pairs, cross, truth, ref + tag)]
    return sets


def write_eq6_calibration(pairs: pd.DataFrame, posts: pd.DataFrame, truth: pd.DataFrame | None,
                          stage: PairsStage, seed: int, policy_runs: dict[str, PDIPResult],
                          note: str) -> Eq6Calibration | None:
    """``figures/eq6_calibration.*`` (Eq. 6's P against the share of ``pairs`` that agree with
    the hidden score, by bins of P and of the like gap) and ``figures/eq6_calibration_rules.*``
    (matching policies and one-rule ablations); "not available: no ground truth" on a crawl."""
    from i2pa_core.io.files import write_table
    from i2pa_core.plots.calibration import reliability_figure, rules_figure
    from i2pa_core.plots.style import save_figure, write_not_available

    if truth is None:
        for stem in (CALIBRATION_STEM, CALIBRATION_RULES_STEM):
            write_not_available(stem, NO_TRUTH_CALIBRATION, note)
        return None
    scored, edges = scored_pairs(pairs, truth), p_edges(stage.rules.threshold)
    summary = calibration_summary(scored, edges)
    p_bins = binned_agreement(scored, edges, by="p")
    gap_bins = binned_agreement(scored, quantile_edges(scored["gap"], GAP_BINS), by="gap")
    bins = pd.concat([p_bins, gap_bins], ignore_index=True)
    write_table(CALIBRATION_STEM, bins, _bins_caption(summary, note), float_format="{:.6g}",
                p_columns=[])  # mean_p is Eq. 6's P, not a p-value
    save_figure(reliability_figure(p_bins, gap_bins, stage.rules.sigma, summary["sigma_implied"]),
                CALIBRATION_STEM, caption=note)
    table = rules_table(eq6_pair_sets(posts, truth, stage, seed, policy_runs))
    write_table(CALIBRATION_RULES_STEM, table, _rules_caption(stage.rules, note),
                float_format="{:.4f}", p_columns=[])
    save_figure(rules_figure(table), CALIBRATION_RULES_STEM, caption=note)
    return Eq6Calibration(bins, table, summary)


def _rules_caption(rules: PDIPConfig, note: str) -> str:
    return (
        f"Label precision and calibration of Eq. 6 per matching policy and one-rule ablation (the "
        f"configurations of label_precision; paper rules: pairs.rules, T = {rules.threshold:g}, "
        f"sigma = {rules.sigma:g}, matching {rules.matching}; the no-same-user rows on a user "
        f"sample). n_pdips: the yield; precision: share of PDIPs with q_A > q_B (hidden "
        f"intrinsic score), 95 % Wilson interval over the pairs; calibration_gap = mean_p - "
        f"precision; ece: expected calibration error over the bins of P (equal to "
        f"calibration_gap when Eq. 6 is overconfident in every bin); brier: mean (P - agree)^2; "
        f"sigma_implied: the sigma under which Eq. 6 fits the agreement best. d_*: the row minus "
        f"its reference (a one-rule ablation: -d_precision is what the rule buys, -d_pdips what "
        f"it costs), d_ci: 95 % Newcombe interval for independent sets (the sets share most "
        f"pairs, so it is conservative). The intervals treat pairs as independent (pairs of one "
        f"user are not) and do not cover another platform draw. {note}")


def _bins_caption(summary: dict, note: str) -> str:
    return (f"Calibration of Eq. 6: the PDIPs by bins of P (binning p) and by ten equal-count "
            f"bins of the like gap S_A - S_B (binning gap): n, mean predicted P, observed share "
            f"with q_A > q_B (hidden intrinsic score) and its 95 % Wilson interval over the "
            f"bin's pairs (pairs of one user are not independent; another platform draw is not "
            f"covered). All {summary['n_pairs']:,} PDIPs: mean P {summary['mean_p']:.4f}, "
            f"precision {summary['precision']:.4f} [{summary['ci_low']:.4f}, "
            f"{summary['ci_high']:.4f}], ECE {summary['ece']:.4f}, Brier {summary['brier']:.4f}, "
            f"best-fitting sigma {summary['sigma_implied']:.3f}. {note}")


def _pair_set(setting: str, kind: str, pairs: pd.DataFrame, cfg: PDIPConfig,
              truth: pd.DataFrame, reference: str | None = None) -> PairSet:
    return PairSet(setting, kind, scored_pairs(pairs, truth), p_edges(cfg.threshold), reference)


def _cross_user_sample(posts: pd.DataFrame, n_users: int, seed: int) -> tuple[pd.DataFrame, str]:
    """The user sample of :func:`~i2pa_core.pdip.sweep.label_precision_table`'s no-same-user
    rows: the same draw (first of three spawned streams), so the two tables show the same pairs."""
    sub_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])
    users = np.sort(posts["user_id"].unique())
    chosen = sub_rng.choice(users, size=min(n_users, len(users)), replace=False)
    return (posts.loc[posts["user_id"].isin(chosen)],
            f" ({len(chosen)} of {len(users)} users)")
