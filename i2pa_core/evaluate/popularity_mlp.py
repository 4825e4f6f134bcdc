"""The paper's absolute-popularity ablation (its image score plus six
non-visual features, in the paper's experiments beside Fig. 4).

An image score f(x) and six non-visual features go into a 7-256-128-64-1 MLP (ReLU) that is
trained end-to-end with MSE on absolute popularity. The paper reports a high Pearson correlation
with likes (0.83 train / 0.80 test) but only 66.5 % pairwise accuracy on the test PDIPs, against
76.65 % for the PDIP-trained model: predicting likes is not the same as ranking images of one user.

Choices the paper leaves open, fixed here:

* **Features** (:func:`nonvisual_features`): ln(1 + count) of followers, followings, the user's
  posts, hashtags, @ mentions and caption length, then standardised with the training posts' mean
  and sd. Hashtags, mentions and caption length follow :mod:`i2pa_core.pdip.captions` (hashtags and
  mentions counted with repetition; caption length = descriptive words, the unit of PDIP rule 4).
* **Target**: ln(1 + likes) (the paper's S with the natural log), standardised on the training
  posts; predictions are reported back in ln-likes units.
* **Posts**: training = every post of a train-split PDIP (the paper's "images behind the training
  PDIPs"); validation = the val-split posts, whose MSE picks the best epoch (the model is an
  absolute regressor, so it is selected on its own objective, never on PDIP accuracy);
  test = the test-split posts.
* **Ranking PDIPs**: with the full MLP prediction, as the paper does. Within a PDIP the user
  features are equal and hashtags/mentions are identical, so the ranking differs from the image
  score's only through caption length and the MLP's non-linearity; :func:`ablation_report`
  gives the image score's accuracy too, as a diagnostic.

Randomness comes from one seed: initial weights (scoped, the global RNG is restored), batch
order and the training flips. On the CPU with a fixed thread count, a seed gives identical
predictions.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from i2pa_core.pdip.caption_features import PART_SEP, TAG_SEP, caption_features
from i2pa_core.model.inference import decode_uint8
from i2pa_core.metrics import mcnemar_test, pair_outcomes, pairwise_accuracy
from i2pa_core.model.scorer import build_scorer
from i2pa_core.model.presets import PRESETS, make_transform

FEATURES = ("followers", "followings", "user_posts", "hashtags", "mentions", "caption_length")
HIDDEN = (256, 128, 64)


@dataclass(frozen=True)
class MLPConfig:
    """Training knobs. The defaults cost about two and a half minutes on two idle CPU cores with
    the default platform (~26 k training posts of 64 px, ~40 s per epoch, plus decoding ~36 k
    images once): 3 epochs of 128 posts per batch. Validation MSE is flat after the first epoch
    there, so more epochs buy nothing."""

    backbone: str = "smallcnn"   # image scorer f (models.BACKBONES), trained from scratch
    preset: str = "synthetic"    # preprocessing (presets.PRESETS); its flip is the augmentation
    epochs: int = 3
    batch_size: int = 128        # posts per batch
    lr: float = 1e-3             # Adam, every layer
    weight_decay: float = 1e-4   # L2 penalty, as in the paper's training
    eval_batch: int = 512

    def __post_init__(self):
        for name in ("epochs", "batch_size", "eval_batch"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")


def nonvisual_features(posts: pd.DataFrame) -> pd.DataFrame:
    """The six non-visual features of each post, ln(1 + count), in :data:`FEATURES` order.

    Returns a float64 frame with the row order (and index) of ``posts``.

    Raises:
        ValueError: ``followers``, ``followings`` or ``user_posts`` is missing.
    """
    missing = [c for c in FEATURES[:3] if c not in posts.columns]
    if missing:
        raise ValueError(f"posts lack the user column(s) {', '.join(missing)} the ablation needs")
    n_words, keys = caption_features(posts["caption"].tolist())
    parts = pd.Series(keys.to_pylist(), index=posts.index).str.split(PART_SEP, expand=True)
    counts = {name: _tag_count(parts[k]) for k, name in enumerate(("hashtags", "mentions"))}
    raw = {c: posts[c].to_numpy(np.float64) for c in FEATURES[:3]}
    raw.update(counts, caption_length=n_words.astype(np.float64))
    return pd.DataFrame({c: np.log1p(raw[c]) for c in FEATURES}, index=posts.index)


def _tag_count(joined: pd.Series) -> np.ndarray:
    """Number of tags in each TAG_SEP-joined string (0 for an empty one)."""
    return np.where(joined == "", 0, joined.str.count(TAG_SEP) + 1).astype(np.float64)


class PopularityMLP(nn.Module):
    """g(x, u) = MLP([f(x), u]): image score plus six features, 7-256-128-64-1 with ReLU."""

    def __init__(self, scorer: nn.Module, n_features: int = len(FEATURES)):
        super().__init__()
        self.scorer = scorer
        sizes = (1 + n_features, *HIDDEN)
        layers: list[nn.Module] = []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(d_in, d_out), nn.ReLU()]
        self.mlp = nn.Sequential(*layers, nn.Linear(sizes[-1], 1))

    def forward(self, images: torch.Tensor,
                features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W), (B, 6) -> (prediction (B,), image score (B,))."""
        score = self.scorer(images)                            # (B, 3, H, W) -> (B,)
        joint = torch.cat([score[:, None], features], dim=1)   # (B, 1 + 6)
        return self.mlp(joint).squeeze(1), score               # (B, 7) -> (B,)


def build_popularity_mlp(cfg: MLPConfig, seed: int) -> PopularityMLP:
    """The untrained model, its random weights drawn from ``seed`` (global RNG restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PopularityMLP(build_scorer(cfg.backbone))


def load_images(paths, preset: str) -> torch.Tensor:
    """Decode image files once with the deterministic transform: (N, 3, H, W) uint8."""
    transform = make_transform(preset, train=False)
    return torch.stack([decode_uint8(p, transform) for p in paths])


def _standardise(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    mean, sd = ref.mean(axis=0), ref.std(axis=0)
    return (x - mean) / np.where(sd > 0, sd, 1.0)


@dataclass(frozen=True)
class FitResult:
    """A trained model (best validation epoch, eval mode) and one history row per epoch."""

    model: PopularityMLP
    history: pd.DataFrame   # epoch, train_mse, val_mse, seconds
    best_epoch: int         # 0-based


def fit(model: PopularityMLP, train: dict, val: dict, cfg: MLPConfig, seed: int,
        progress: bool = False) -> FitResult:
    """Train end-to-end with MSE on the standardised target; keep the best-val-MSE weights.

    ``train``/``val``: ``{"images": (N, 3, H, W) uint8, "features": (N, 6) float32,
    "target": (N,) float32}`` (features and target already standardised).
    """
    normalize = make_transform(cfg.preset, train=True).normalize_batch
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng([seed, 0xAB5])
    flip = PRESETS[cfg.preset].flip
    rows, best_state, best_mse = [], None, np.inf
    for epoch in range(cfg.epochs):
        start = time.perf_counter()
        model.train()
        losses, order = [], rng.permutation(len(train["target"]))
        for index in _batches(order, cfg.batch_size, progress, f"epoch {epoch + 1}/{cfg.epochs}"):
            images = train["images"][index]  # (B, 3, H, W) uint8
            if flip:
                mirror = torch.from_numpy(rng.random(len(index)) < 0.5)
                images = torch.where(mirror[:, None, None, None], images.flip(3), images)
            pred, _ = model(normalize(images), train["features"][index])
            loss = nn.functional.mse_loss(pred, train["target"][index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()) * len(index))
        val_pred, _ = predict(model, val["images"], val["features"], cfg)
        val_mse = float(np.mean((val_pred - val["target"].numpy()) ** 2))
        rows.append({"epoch": epoch, "train_mse": sum(losses) / len(order), "val_mse": val_mse,
                     "seconds": time.perf_counter() - start})
        if val_mse < best_mse:
            best_mse, best_state = val_mse, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    history = pd.DataFrame(rows)
    return FitResult(model, history, int(history["val_mse"].idxmin()))


def _batches(order: np.ndarray, size: int, progress: bool, desc: str):
    starts = range(0, len(order), size)
    if progress:
        from tqdm.auto import tqdm
        starts = tqdm(starts, desc=desc, unit="batch", leave=False)
    for start in starts:
        yield torch.from_numpy(order[start:start + size])


def predict(model: PopularityMLP, images: torch.Tensor, features: torch.Tensor,
            cfg: MLPConfig) -> tuple[np.ndarray, np.ndarray]:
    """(prediction, image score), each (N,) float64, in eval mode without augmentation."""
    normalize = make_transform(cfg.preset, train=False).normalize_batch
    model.eval()
    preds, scores = [], []
    with torch.inference_mode():
        for start in range(0, len(images), cfg.eval_batch):
            part = slice(start, start + cfg.eval_batch)
            pred, score = model(normalize(images[part]), features[part])  # (B,), (B,)
            preds.append(pred)
            scores.append(score)
    return torch.cat(preds).double().numpy(), torch.cat(scores).double().numpy()


def split_posts(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each post of a PDIP with its split: frame ``post_id, split`` (train, val, test)."""
    ids = [pd.DataFrame({"post_id": pairs[c], "split": pairs["split"]})
           for c in ("a_post_id", "b_post_id")]
    return pd.concat(ids, ignore_index=True).drop_duplicates("post_id").reset_index(drop=True)


def run_ablation(posts: pd.DataFrame, pairs: pd.DataFrame, image_root: str | os.PathLike,
                 cfg: MLPConfig = MLPConfig(), seed: int = 0,
                 progress: bool = False) -> tuple[pd.DataFrame, FitResult]:
    """Fit the absolute-popularity model and predict every PDIP post.

    Returns ``(predictions, fit)``: predictions has ``post_id, split, log_likes`` (ln(1 + likes)),
    ``prediction`` (the MLP output in ln-likes units) and ``image_score`` (f alone).
    """
    frame = split_posts(pairs).merge(posts, on="post_id", how="left", validate="one_to_one")
    log_likes = np.log1p(frame["likes"].to_numpy(np.float64))
    feats = nonvisual_features(frame).to_numpy()
    is_train = (frame["split"] == "train").to_numpy()
    x = torch.from_numpy(_standardise(feats, feats[is_train]).astype(np.float32))
    mu, sd = log_likes[is_train].mean(), log_likes[is_train].std()
    y = torch.from_numpy(((log_likes - mu) / sd).astype(np.float32))
    images = load_images([os.path.join(image_root, p) for p in frame["image"]], cfg.preset)
    part = {s: torch.from_numpy(np.flatnonzero((frame["split"] == s).to_numpy()))
            for s in ("train", "val")}
    data = {s: {"images": images[i], "features": x[i], "target": y[i]} for s, i in part.items()}
    result = fit(build_popularity_mlp(cfg, seed), data["train"], data["val"], cfg, seed, progress)
    pred, score = predict(result.model, images, x, cfg)
    out = frame[["post_id", "split"]].assign(log_likes=log_likes, prediction=pred * sd + mu,
                                             image_score=score)
    return out, result


def ablation_report(predictions: pd.DataFrame, pairs: pd.DataFrame,
                    reference: pd.DataFrame | None = None, split: str = "test") -> dict:
    """Pearson(prediction, ln(1 + likes)) on train and test posts; pairwise accuracy (with n and
    95 % bootstrap CI) of the prediction and of the image score on ``split``'s PDIPs; with
    ``reference`` (``post_id, score`` of another model), its accuracy and the exact McNemar test
    (b: pairs only the ablation gets right, c: only the reference). Accuracies in percent.

    The image score is oriented like the prediction (sign of their correlation on the training
    posts), since the MLP may use f with either sign."""
    out = {}
    for name in ("train", "test"):
        rows = predictions[predictions["split"] == name]
        out[f"pearson_{name}"] = float(np.corrcoef(rows["prediction"], rows["log_likes"])[0, 1])
    chosen = pairs[pairs["split"] == split]
    by_id = predictions.set_index("post_id")
    # The MLP may weight f with either sign; orient f like the prediction on the training posts.
    train = predictions[predictions["split"] == "train"]
    flip = np.corrcoef(train["image_score"], train["prediction"])[0, 1] < 0  # NaN: keep
    by_id = by_id.assign(image_score=-by_id["image_score"] if flip else by_id["image_score"])
    for column, key in (("prediction", "accuracy"), ("image_score", "image_score_accuracy")):
        acc = pairwise_accuracy(*_pair_scores(by_id[column], chosen))
        out.update({key: 100 * acc["accuracy"], f"{key}_ci_low": 100 * acc["ci_low"],
                    f"{key}_ci_high": 100 * acc["ci_high"]})
    out["n_pairs"] = len(chosen)
    if reference is not None:
        ours = pair_outcomes(*_pair_scores(by_id["prediction"], chosen)) == 1.0
        theirs = pair_outcomes(*_pair_scores(reference.set_index("post_id")["score"], chosen))
        out["reference_accuracy"] = 100 * float(theirs.mean())
        out["mcnemar"] = mcnemar_test(ours, theirs == 1.0)
    return out


def _pair_scores(score: pd.Series, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return score.loc[pairs["a_post_id"]].to_numpy(), score.loc[pairs["b_post_id"]].to_numpy()
