"""A simulated observer panel: the default data of the psychophysical experiment.

Thirty synthetic observers with the paper's demographics (14 female / 16 male, aged 20-30, 40 %
have used Instagram, 30 % spend over 3 h a day on social media) answer the plan's pairs. Each
observer judges an image by a *personal* version of the platform's taste (:class:`.Taste`, the
weights behind the hidden q): the content category always, each other component only with
probability ``perceive_prob``, all with log-normal personal weights; plus per-image perception
noise, partly personal and partly shared by the whole panel (people err together).
Instagram users and heavy users are slightly better calibrated (weight spread, personal and shared
noise all shrink by ``expert_gain`` per trait), mirroring the paper's finding; gender has no
effect by construction.

The output is written in exactly the format of the web page (:mod:`i2pa_core.human.store`), so the
analysis cannot tell the two apart. Everything made from it must carry :data:`SIMULATED_PANEL`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from i2pa_core.human.plan import subject_id, trials
from i2pa_core.human.store import RESPONSE_COLUMNS, SUBJECT_COLUMNS, format_rows, utc_timestamp
from i2pa_core.io.files import write_text
from i2pa_core.simulate.content import CATEGORIES, VARIANTS, score_standardisation, raw_score

SIMULATED_PANEL = "Data: simulated panel of synthetic observers (not human subjects)."
_TASTE_FIELDS = ("category", "exposure", "colourfulness", "sharpness", "noise", "subject_size",
                 "offcentre", "detail")


@dataclass(frozen=True)
class PanelConfig:
    """The simulated panel (params.yaml section ``human``, key ``panel``).

    The noise defaults were tuned by hand on the default platform (1,000 pairs, seeds 0-1) to land
    near the paper's 66.6 % single-subject and 72.4 % majority accuracy.
    """

    n_subjects: int = 30
    n_female: int = 14               # the rest are male
    share_instagram: float = 0.4     # share who have used Instagram
    share_heavy: float = 0.3         # share spending over 3 h a day on social media
    age_min: int = 20
    age_max: int = 30
    variant: str = "instagram"       # platform taste the observers try to guess
    perceive_prob: float = 0.9       # chance an observer perceives each taste component
    weight_sd: float = 0.4           # log-sd of personal weights around the platform's
    noise_sd: float = 2.1            # personal per-image perception noise, in units of q
    shared_noise_sd: float = 1.9     # per-image misjudgement shared by the whole panel, units of q
    expert_gain: float = 0.15        # spread and noise shrink by this share per "expert" trait
    rt_median_ms: float = 2000.0     # median response time of an easy pair (hard ones: double)
    rt_log_sd: float = 0.45
    start: str = "2019-03-04T09:00:00+00:00"  # first subject's first answer


def simulate_demographics(cfg: PanelConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Subjects with exactly the configured counts, traits shuffled independently."""
    n = cfg.n_subjects
    gender = rng.permutation(np.where(np.arange(n) < cfg.n_female, "female", "male"))
    insta = rng.permutation(np.arange(n) < round(cfg.share_instagram * n))
    heavy = rng.permutation(np.arange(n) < round(cfg.share_heavy * n))
    hours = np.where(heavy, rng.integers(7, 17, n) / 2, rng.integers(0, 7, n) / 2)
    return pd.DataFrame({"subject": [subject_id(i) for i in range(n)], "gender": gender,
                         "age": rng.integers(cfg.age_min, cfg.age_max + 1, n),
                         "used_instagram": np.where(insta, "yes", "no"),
                         "social_hours": hours.astype(float)})


def _observer_utility(truth: pd.DataFrame, shared: np.ndarray, calibration: float,
                      cfg: PanelConfig, rng: np.random.Generator) -> pd.Series:
    """What one observer thinks of every image (post_id -> utility, larger = more likes).

    ``shared`` is the panel's common misjudgement of each image (raw-score units): people err
    together, which is why a majority vote gains less over single subjects than independent
    errors would allow (paper: 72.4 % vs 66.6 %).
    """
    taste = VARIANTS[cfg.variant]
    personal = {}
    for name in _TASTE_FIELDS:
        weight = np.asarray(getattr(taste, name), dtype=float)
        # Everyone sees what the picture shows; the finer attributes are noticed or not.
        seen = name == "category" or rng.random() < cfg.perceive_prob
        factor = np.exp(rng.normal(0.0, cfg.weight_sd * calibration, weight.shape))
        personal[name] = tuple(weight * factor * seen) if weight.ndim else float(weight * factor
                                                                                 * seen)
    category = truth["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy()
    attrs = {a: truth[a].to_numpy() for a in ("exposure", "colourfulness", "sharpness", "noise",
                                              "subject_size", "offset_x", "offset_y", "hue", "detail")}
    score = raw_score(category, attrs, dataclasses.replace(taste, **personal))
    noise = rng.normal(0.0, cfg.noise_sd * calibration * _raw_sd(), len(truth))
    return pd.Series(score + calibration * shared + noise, index=truth["post_id"].to_numpy())


def _raw_sd() -> float:
    """Scale of the raw taste score (q = raw / this), so noise is in units of q."""
    return score_standardisation()[1]


def _calibration(subject: dict, cfg: PanelConfig) -> float:
    experts = (subject["used_instagram"] == "yes") + (subject["social_hours"] > 3)
    return 1.0 - cfg.expert_gain * experts


def simulate_panel(plan: dict, truth: pd.DataFrame, cfg: PanelConfig,
                   seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answers of the panel to every trial of the plan, in the web page's file formats.

    Subject ``i`` draws from ``SeedSequence(seed, spawn_key=(3, i))``; demographics from
    ``spawn_key=(4,)``, the panel's shared misjudgement from ``spawn_key=(5,)``.
    Returns (responses, subjects) with the columns of :mod:`i2pa_core.human.store`.
    """
    subjects = simulate_demographics(cfg, np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(4,))))
    shown = truth[truth["post_id"].isin(set(plan["posts"]))].reset_index(drop=True)
    start = datetime.fromisoformat(cfg.start)
    shared = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(5,))).normal(
        0.0, cfg.shared_noise_sd * _raw_sd(), len(shown))
    frames, stamps = [], []
    for i, subject in enumerate(subjects.to_dict("records")):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3, i)))
        utility = _observer_utility(shown, shared, _calibration(subject, cfg), cfg, rng)
        frames.append(_answer_trials(trials(plan, i), utility, subject["subject"],
                                     start + timedelta(days=i), cfg, rng))
        stamps.append(utc_timestamp(start + timedelta(days=i, seconds=-90)))
    subjects["timestamp"] = stamps
    return pd.concat(frames, ignore_index=True), subjects


def _answer_trials(order: list[dict], utility: pd.Series, subject: str, start: datetime,
                   cfg: PanelConfig, rng: np.random.Generator) -> pd.DataFrame:
    left = utility.loc[[t["left"] for t in order]].to_numpy()
    right = utility.loc[[t["right"] for t in order]].to_numpy()
    gap = np.abs(left - right) / _raw_sd()
    # Hard pairs (similar utilities) take longer, as in any 2AFC task.
    rt = np.round(cfg.rt_median_ms * (1 + np.exp(-2 * gap))
                  * np.exp(rng.normal(0, cfg.rt_log_sd, len(order)))).astype(int)
    session = np.array([t["session"] for t in order])
    breaks = np.cumsum(np.r_[0, np.diff(session) > 0]) * 15 * 60_000  # 15 min between sessions
    elapsed = np.cumsum(rt + 600) + breaks  # 0.6 s to load the next pair
    return pd.DataFrame({
        "subject": subject, "session": session, "pair_id": [t["pair_id"] for t in order],
        "left_post_id": [t["left"] for t in order],
        "choice": [t["left"] if lv > rv else t["right"] for t, lv, rv in zip(order, left, right)],
        "rt_ms": rt,
        "timestamp": [utc_timestamp(start + timedelta(milliseconds=int(e))) for e in elapsed]})


def write_panel(responses: pd.DataFrame, subjects: pd.DataFrame,
                responses_path: str | os.PathLike, subjects_path: str | os.PathLike) -> None:
    """Write both files atomically, in the same CSV format :func:`i2pa_core.human.store.append_row`
    uses."""
    for frame, path, columns in ((responses, responses_path, RESPONSE_COLUMNS),
                                 (subjects, subjects_path, SUBJECT_COLUMNS)):
        write_text(path, format_rows(frame[list(columns)].to_dict("records"), columns, True))
