"""Glue for the ``evaluate`` stage: the comparison of paper Fig. 4 on the test PDIPs, the
images behind Fig. 1-7, and the optional user-supplied pair list or folder (params
``evaluate.user_pairs`` / ``evaluate.user_folder``).

Every method is scored on the same test PDIPs, with n and a 95 % bootstrap interval
(:func:`i2pa_core.evaluate.baselines.evaluate_scores`) and the exact McNemar test against ours. Rows
the paper reports for tools that cannot be re-run (closed services, Hessel17's Reddit model) are
kept apart: ``source = "paper"``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from i2pa_core import paper
from i2pa_core.evaluate import baselines
from i2pa_core.evaluate.features import khosla_features
from i2pa_core.model.gradcam import grad_cam
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.io.images import ImageError, open_rgb
from i2pa_core.io.posts import image_paths
from i2pa_core.model.inference import decode_uint8
from i2pa_core.model.presets import make_transform
from i2pa_core.metrics import seeded_subset


MLP_LABEL = "Absolute-popularity MLP (image score + 6 non-visual features)"


@dataclass(frozen=True)
class EvaluateStage:
    """The ``evaluate`` section of params.yaml.

    Attributes:
        khosla_train_pairs: training PDIPs (drawn from the seed) whose images fit the Khosla14
            learners: ridge on the absolute ln(1 + likes) of their posts, and the pairwise
            ranker on the pairs themselves. null: all (slow on a CPU: ~400 images/s).
        khosla_val_pairs: validation PDIPs that choose each learner's penalty.
        khosla_alphas: the penalties tried.
        card_post: post_id for Fig. 1; null: a test post drawn from the seed.
        n_gradcam: images per row of Fig. 7 (highest and lowest test scores).
        per_level: images per level of Fig. 6.
        user_pairs: a pair list to evaluate the trained model on (our pairs table, or the
            released ``Low_popularity,High_popularity`` list); null: none.
        user_images: folder holding the images of ``user_pairs`` (``<id><user_ext>``).
        user_folder: a folder of photos to score and rank; null: none.
        popularity_mlp: settings of the absolute-popularity ablation (its module's config).
        generalise: settings of the generalisation experiment (its module's config).
        frozen: settings of the frozen-encoder baseline (FrozenConfig in
            i2pa_core/evaluate/frozen.py): ImageNet EfficientNet-Lite0 features, computed once
            and cached in data/features, and a linear Siamese head on the PDIPs.
    """

    khosla_train_pairs: int | None = 4000
    khosla_val_pairs: int = 1000
    khosla_alphas: tuple[float, ...] = (0.01, 1.0, 100.0, 10000.0)
    card_post: str | None = None
    n_gradcam: int = 6
    per_level: int = 5
    user_pairs: str | None = None
    user_images: str | None = None
    user_ext: str = ".jpg"
    user_folder: str | None = None
    popularity_mlp: dict = field(default_factory=dict)
    generalise: dict = field(default_factory=dict)
    frozen: dict = field(default_factory=dict)


def image_loader(posts: pd.DataFrame, image_root: str | os.PathLike):
    """post_id -> RGB array (H, W, 3), for the figure functions."""
    relative = posts.set_index("post_id")["image"]
    return lambda post_id: np.asarray(open_rgb(os.path.join(image_root, relative[post_id])))


def load_images(paths, size: int = 64) -> np.ndarray:
    """Decode images into one (N, size, size, 3) uint8 array (resized if they differ).

    Raises ImageError naming the file: the pipeline's own images must all decode.
    """
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            image = open_rgb(path)
        except ImageError as exc:
            raise ImageError(f"{path}: {exc}") from None
        if image.size != (size, size):
            image = image.resize((size, size))
        out[i] = np.asarray(image)
    return out


def split_pairs(pdips: pd.DataFrame, split: str, limit: int | None,
                rng: np.random.Generator) -> pd.DataFrame:
    """The pairs of one split, at most ``limit`` of them drawn at random (order kept)."""
    chosen = pdips[pdips["split"] == split]
    if limit is not None and len(chosen) > limit:
        chosen = seeded_subset(chosen, limit, rng)
    return chosen.reset_index(drop=True)


def handcrafted_scores(pdips: pd.DataFrame, posts: pd.DataFrame, image_root: str | os.PathLike,
                       stage: EvaluateStage, seed: int) -> tuple[dict[str, pd.Series], pd.DataFrame]:
    """Scores of the test posts by the aesthetics proxy and the two Khosla14 learners.

    Returns:
        ({method: scores indexed by post_id}, table learner / alpha / val_accuracy).
    """
    rng = np.random.default_rng([seed, 5])
    train = split_pairs(pdips, "train", stage.khosla_train_pairs, rng)
    val = split_pairs(pdips, "val", stage.khosla_val_pairs, rng)
    test = pdips[pdips["split"] == "test"]
    ids = {name: paired_post_ids(frame) for name, frame in (("train", train), ("val", val),
                                                   ("test", test))}
    images = {name: load_images(image_paths(posts, image_root, v)) for name, v in ids.items()}
    feats = {name: khosla_features(v) for name, v in images.items()}
    val_a, val_b = baselines.pair_rows(val, ids["val"])
    train_a, train_b = baselines.pair_rows(train, ids["train"])
    log_likes = np.log1p(posts.set_index("post_id").loc[ids["train"], "likes"].to_numpy(float))
    absolute = baselines.choose_alpha(
        lambda a: baselines.fit_ridge(feats["train"], log_likes, a), stage.khosla_alphas,
        feats["val"][val_a], feats["val"][val_b])
    pairwise = baselines.choose_alpha(
        lambda a: baselines.fit_pairwise(feats["train"][train_a], feats["train"][train_b],
                                         a / len(train)),
        stage.khosla_alphas, feats["val"][val_a], feats["val"][val_b])
    index = pd.Index(ids["test"], name="post_id")
    scores = {
        "Aesthetics proxy": pd.Series(baselines.aesthetic_scores(images["test"]), index=index),
        "Khosla14 features, absolute likes": pd.Series(absolute[1].score(feats["test"]), index=index),
        "Khosla14 features, pairwise": pd.Series(pairwise[1].score(feats["test"]), index=index),
    }
    choices = pd.concat([absolute[2].assign(learner="ridge on ln likes"),
                         pairwise[2].assign(learner="pairwise ranker")], ignore_index=True)
    return scores, choices[["learner", "alpha", "val_accuracy"]]


def model_inputs(paths, preset: str) -> tuple[torch.Tensor, np.ndarray]:
    """Evaluation-transform tensors (B, 3, H, W) and the matching RGB arrays (B, H, W, 3)."""
    transform = make_transform(preset, train=False)
    raw = torch.stack([decode_uint8(p, transform) for p in paths])   # (B, 3, H, W) uint8
    return transform.normalize_batch(raw), raw.permute(0, 2, 3, 1).numpy()


USER_SCORE_COLUMNS = ["rank", "path", "score", "score_100", "error"]


def user_inputs(stage: EvaluateStage, model, preset: str, reference, seed: int) -> tuple[dict, pd.DataFrame]:
    """Evaluate ``stage.user_pairs`` and score ``stage.user_folder`` when params name them.

    Returns:
        (summary for metrics.json: ``user_pairs`` accuracy/n/CI and image counts, or None;
        ``user_folder`` counts, or None), and the folder's scores best first
        (:data:`USER_SCORE_COLUMNS`; skipped files last with their reason; empty without a folder).
    Raises:
        ValueError naming the params key when a named file or folder is missing.
    """
    from pathlib import Path

    from i2pa_core.io.pair_list import read_pairs
    from i2pa_core.evaluate.scoring import evaluate_pairs, score_paths

    summary = {"user_pairs": None, "user_folder": None}
    if stage.user_pairs is not None:
        if stage.user_images is None or not Path(stage.user_images).is_dir():
            raise ValueError(f"evaluate.user_images: {stage.user_images!r} is not a folder "
                             "(needed by evaluate.user_pairs)")
        pairs = read_pairs(Path(stage.user_pairs), None)
        result = evaluate_pairs(pairs, stage.user_images, model, preset, stage.user_ext,
                                rng=seed)
        problems = result.pop("problems")
        summary["user_pairs"] = {"file": stage.user_pairs, **result,
                                 "problems": problems.head(50).to_dict("records")}
    scores = pd.DataFrame(columns=USER_SCORE_COLUMNS)
    if stage.user_folder is not None:
        if not Path(stage.user_folder).is_dir():
            raise ValueError(f"evaluate.user_folder: {stage.user_folder!r} is not a folder")
        scores = score_paths([stage.user_folder], model, preset, reference=reference)
        scores = scores.sort_values(["error", "score"], ascending=[True, False], kind="stable",
                                    na_position="last").reset_index(drop=True)
        scored = scores["error"] == ""
        scores.insert(0, "rank", np.where(scored, np.cumsum(scored), 0))
        summary["user_folder"] = {"folder": stage.user_folder, "scored": int(scored.sum()),
                                  "skipped": int((~scored).sum())}
    return summary, scores


def gradcam_examples(model, posts: pd.DataFrame, image_root: str | os.PathLike,
                     scores: pd.Series, n: int, preset: str) -> dict:
    """Grad-CAM of the ``n`` highest- and ``n`` lowest-scored posts: the keyword arguments of
    :func:`i2pa_core.plots.results.gradcam_grid` (images, maps, scores and sign per row). The
    high row maps +score (what raises it), the low row -score (what lowers it)."""
    order = scores.sort_values(ascending=False, kind="stable")
    out = {}
    for name, chosen, sign in (("high", order.iloc[:n], 1), ("low", order.iloc[::-1].iloc[:n], -1)):
        tensors, rgb = model_inputs(image_paths(posts, image_root, chosen.index), preset)
        out.update({f"{name}_images": rgb, f"{name}_maps": grad_cam(model, tensors, sign=sign),
                    f"{name}_scores": chosen.to_numpy(), f"{name}_sign": sign})
    return out


def card_row(posts: pd.DataFrame, post_id: str) -> pd.Series:
    """One post's row of the posts table, with its post_id, for Fig. 1."""
    row = posts.set_index("post_id").loc[post_id].copy()
    row["post_id"] = post_id
    return row


# The paper's generalisation results (Sec. 4.3), next to the closest of our constructions.
PAPER_GENERALISATION = {
    ("reddit", "pdip"): f"{paper.pct(paper.REDDIT, 1)} (Reddit pairs of Hessel17; Hessel17 "
                        f"{paper.pct(paper.REDDIT_HESSEL17, 1)})",
    ("flickr", "flickr"): f"{paper.pct(paper.FLICKR, 1)} (Flickr, most vs least viewed; "
                          f"Khosla14 {paper.pct(paper.FLICKR_KHOSLA14, 1)})"}


def generalisation_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """The generalisation table (:func:`i2pa_core.evaluate.generalise.run_generalisation`) in
    percent with the paper's number where one is comparable, and its entries for ``metrics.json``;
    the timing
    columns are left out so that the same params give the same files."""
    out = table[["variant", "construction", "n"]].copy()
    for col in ("accuracy", "ci_low", "ci_high", "oracle_accuracy"):
        out[f"{col} (%)"] = 100 * table[col]
    out["paper"] = [PAPER_GENERALISATION.get((v, c), "-")
                    for v, c in zip(table["variant"], table["construction"])]
    entries = [{"label": f"{r.variant} platform, {r.construction} pairs",
                "accuracy": 100 * r.accuracy, "ci_low": 100 * r.ci_low,
                "ci_high": 100 * r.ci_high, "n": int(r.n),
                "oracle": 100 * r.oracle_accuracy,
                "paper": PAPER_GENERALISATION.get((r.variant, r.construction), "-")}
               for r in table.itertuples(index=False)]
    return out, entries


def generalise_in_scratch(model, preset: str, cfg, seed: int, base, rules) -> pd.DataFrame:
    """:func:`i2pa_core.evaluate.generalise.run_generalisation` with the variant platforms (tens of
    thousands of image files) in a temporary folder removed afterwards: only the table is kept, so
    that
    ``dvc status`` has no extra folder to walk."""
    import tempfile

    from i2pa_core.evaluate.generalise import run_generalisation

    with tempfile.TemporaryDirectory(prefix="i2pa-generalise-") as scratch:
        return run_generalisation(model, preset, scratch, cfg, seed, base, rules)
