"""The plan of the psychophysical experiment (Sec. 4.4 of the paper).

A plan fixes everything a subject will see before anyone sits down: ``n_pairs`` test PDIPs drawn at
random from the test split, ``n_training`` training pairs (shown first, with feedback) drawn from
the other splits and sharing no post with the test pairs, and for every subject the order of the
test pairs, which post is shown on the left, and the cut into sessions of ``session_pairs`` pairs
(each session also ends after ``session_minutes``, see :mod:`i2pa_core.human.server`).

Reproducibility: the pair draw uses ``SeedSequence(seed, spawn_key=(0,))``. Subject ``i``'s order
uses ``spawn_key=(1, i)`` and its sides ``spawn_key=(2, i // 2)``; odd subjects see the mirror
image of the sides of the even subject before them, so left/right is balanced within every
subject (half the pairs each way) and, over each two subjects, for every pair. Schedules depend
only on the seed and the subject index, so subjects beyond the declared ``n_subjects`` can join.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from i2pa_core.io.files import write_json

PLAN_FORMAT = "i2pa-human-plan/1"
QUESTION = "Which picture do you think will get more likes on social media?"
_DRAW, _ORDER, _SIDES = 0, 1, 2


@dataclass(frozen=True)
class HumanConfig:
    """The experiment's knobs (params.yaml section ``human``)."""

    n_pairs: int = 200            # test PDIPs shown to every subject (paper: 1,000)
    n_training: int = 8           # training pairs with feedback, shown first (paper: 8)
    session_pairs: int = 50       # K: test pairs per session (paper: 1,000 in 4 sessions)
    session_minutes: float = 30.0  # a session also ends after this long (paper: 30 min)
    n_subjects: int = 30          # declared subjects whose schedules are written (paper: 30)
    test_split: str = "test"      # split the test pairs come from

    def __post_init__(self):
        for name in ("n_pairs", "n_training", "session_pairs", "n_subjects"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.session_minutes <= 0:
            raise ValueError(f"session_minutes must be positive, got {self.session_minutes}")


def subject_id(index: int) -> str:
    """Identifier of the ``index``-th subject (0-based): S01, S02, ..., S100."""
    return f"S{index + 1:02d}"


def subject_index(subject: str) -> int:
    """Inverse of :func:`subject_id`; ValueError for anything else."""
    if not (isinstance(subject, str) and subject[:1] == "S" and subject[1:].isdigit()
            and len(subject) <= 7 and int(subject[1:]) >= 1):
        raise ValueError(f"not a subject id: {subject!r}")
    return int(subject[1:]) - 1


def make_plan(pairs: pd.DataFrame, posts: pd.DataFrame, cfg: HumanConfig, seed: int) -> dict:
    """Draw the test and training pairs and every declared subject's schedule.

    Args:
        pairs: pairs table (a_post_id is the more popular post), with ``split``.
        posts: posts table with ``post_id``, ``image`` (relative path) and ``likes``.
    Returns:
        the plan as a JSON-ready dict (format documented in :mod:`i2pa_core.human.server`).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_DRAW,)))
    with_image = set(posts.loc[posts["image"].notna(), "post_id"])
    usable = pairs[pairs["a_post_id"].isin(with_image) & pairs["b_post_id"].isin(with_image)]
    test = _draw(usable[usable["split"] == cfg.test_split], cfg.n_pairs, rng, "test")
    used = set(test["a_post_id"]) | set(test["b_post_id"])
    others = usable[(usable["split"] != cfg.test_split) & ~usable["a_post_id"].isin(used)
                    & ~usable["b_post_id"].isin(used)]
    training = _draw(others, cfg.n_training, rng, "training")
    plan = {"format": PLAN_FORMAT, "seed": int(seed), "config": dataclasses.asdict(cfg),
            "question": QUESTION,
            "training": _pair_records(training, "T"), "pairs": _pair_records(test, "H"),
            "posts": _post_records(posts, pd.concat([training, test]))}
    plan["subjects"] = [subject_schedule(plan, i) for i in range(cfg.n_subjects)]
    return plan


def _draw(pool: pd.DataFrame, n: int, rng: np.random.Generator, what: str) -> pd.DataFrame:
    if len(pool) < n:
        raise ValueError(f"only {len(pool)} usable {what} pairs, {n} requested")
    rows = np.sort(rng.choice(len(pool), size=n, replace=False))
    return pool.iloc[rows]


def _pair_records(frame: pd.DataFrame, prefix: str) -> list[dict]:
    width = max(2, len(str(len(frame))))
    return [{"pair_id": f"{prefix}{i + 1:0{width}d}", "a_post_id": a, "b_post_id": b,
             "p": float(p)}
            for i, (a, b, p) in enumerate(zip(frame["a_post_id"], frame["b_post_id"], frame["p"]))]


def _post_records(posts: pd.DataFrame, shown: pd.DataFrame) -> dict:
    ids = set(shown["a_post_id"]) | set(shown["b_post_id"])
    chosen = posts[posts["post_id"].isin(ids)].sort_values("post_id")
    return {pid: {"image": str(img), "likes": int(likes)}
            for pid, img, likes in zip(chosen["post_id"], chosen["image"], chosen["likes"])}


def subject_schedule(plan: dict, index: int) -> dict:
    """Order, sides and sessions of subject ``index`` (0-based), from the plan's seed alone.

    Returns ``{"subject", "order": [pair ids], "left": [post shown left, per pair in order],
    "training_left": [post shown left, per training pair]}``.
    """
    seed, pairs, training = plan["seed"], plan["pairs"], plan["training"]
    order_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_ORDER, index)))
    order = order_rng.permutation(len(pairs))
    # Sides are drawn per pair (plan order), not per position, so the mirroring holds per pair.
    a_left = _balanced_sides(seed, index, len(pairs) + len(training))
    left = [p["a_post_id"] if a else p["b_post_id"] for p, a in zip(pairs + training, a_left)]
    return {"subject": subject_id(index), "order": [pairs[i]["pair_id"] for i in order],
            "left": [left[i] for i in order], "training_left": left[len(pairs):]}


def _balanced_sides(seed: int, index: int, n: int) -> np.ndarray:
    """n booleans (True: more popular post on the left), half each way; odd subjects mirrored."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SIDES, index // 2)))
    sides = rng.permutation(np.arange(n) < (n + 1) // 2)
    return ~sides if index % 2 else sides


def trials(plan: dict, index: int) -> list[dict]:
    """Every trial of subject ``index`` in presentation order: training first (session 0).

    Each trial is ``{"pair_id", "session", "left", "right"}`` (post ids).
    """
    declared = plan["subjects"]
    schedule = declared[index] if index < len(declared) else subject_schedule(plan, index)
    k = plan["config"]["session_pairs"]
    out = [_trial(p, 0, left) for p, left in zip(plan["training"], schedule["training_left"])]
    by_id = {p["pair_id"]: p for p in plan["pairs"]}
    for i, (pid, left) in enumerate(zip(schedule["order"], schedule["left"])):
        out.append(_trial(by_id[pid], 1 + i // k, left))
    return out


def _trial(pair: dict, session: int, left: str) -> dict:
    right = pair["b_post_id"] if left == pair["a_post_id"] else pair["a_post_id"]
    return {"pair_id": pair["pair_id"], "session": session, "left": left, "right": right}


def write_plan(path: str | os.PathLike, plan: dict) -> Path:
    """Write the plan as JSON, atomically."""
    return write_json(path, plan)


def read_plan(path: str | os.PathLike) -> dict:
    """Read and check a plan file; ValueError names the first problem."""
    path = Path(path)
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT:
        raise ValueError(f"{path}: not an i2pa human plan (format {PLAN_FORMAT})")
    for pid, post in plan["posts"].items():
        if not safe_relative(post["image"]):
            raise ValueError(f"{path}: image path of {pid} must be relative, without '..'")
    return plan


def safe_relative(image: str) -> bool:
    """True for a relative POSIX path that cannot climb out of its root."""
    p = PurePosixPath(image)
    return bool(image) and "\\" not in image and not p.is_absolute() and ".." not in p.parts
