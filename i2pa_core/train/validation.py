"""Scoring images with a trained scorer, validation accuracy, and the training-curve figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from i2pa_core.metrics import pair_outcomes
from i2pa_core.plots.style import plt
from i2pa_core.model.presets import make_transform
from i2pa_core.train.data import ImageFiles, PairSet


def score_images(model: torch.nn.Module, paths, preset: str, batch: int = 256,
                 device: str | torch.device = "cpu", num_workers: int = 0,
                 amp: bool = False) -> np.ndarray:
    """Scores of image files with the deterministic (evaluation) transform of ``preset``.

    Args:
        model: a scorer ``(B, 3, H, W) -> (B,)``; put in eval mode here.
        paths: image files; every one must decode (images.ImageError otherwise).
        amp: bf16 autocast on CUDA.
    Returns:
        (N,) float64 scores in the order of ``paths``.
    """
    device = torch.device(device)
    transform = make_transform(preset, train=False)
    loader = DataLoader(ImageFiles(paths, transform), batch_size=batch,
                        num_workers=num_workers, pin_memory=device.type == "cuda")
    model.eval()
    out = []
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16,
                                                enabled=amp and device.type == "cuda"):
        for images in loader:
            images = images.to(device, non_blocking=True)  # (B, 3, H, W) uint8
            images = transform.normalize_batch(images).contiguous(memory_format=torch.channels_last)
            out.append(model(images).float().cpu())  # (B, 3, H, W) -> (B,)
    return torch.cat(out).double().numpy() if out else np.zeros(0)


def pair_accuracy(model: torch.nn.Module, pairs: PairSet, preset: str, **kwargs) -> float:
    """Pairwise accuracy on a PairSet (A the more popular; ties count one half)."""
    scores = score_images(model, pairs.paths, preset, **kwargs)
    return float(pair_outcomes(scores[pairs.a_index], scores[pairs.b_index]).mean())


def accuracy_half_width(accuracy: float, n: int, z: float = 1.96) -> float:
    """Normal-approximation half-width of a 95 % interval of an accuracy on n pairs."""
    return float(z * np.sqrt(accuracy * (1.0 - accuracy) / n))


def plot_training_curves(history: pd.DataFrame) -> plt.Figure:
    """Training loss and validation accuracy per epoch, best epoch marked.

    Args:
        history: one row per epoch with ``epoch``, ``train_loss``, ``val_accuracy`` (TrainResult).
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(7.0, 2.8))
    epochs = history["epoch"] + 1
    ax_loss.plot(epochs, history["train_loss"], marker="o", ms=3)
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="Training loss")
    ax_acc.plot(epochs, 100 * history["val_accuracy"], marker="o", ms=3, color="C1")
    best = int(history["val_accuracy"].idxmax())
    ax_acc.axvline(epochs[best], color="0.5", ls="--", lw=0.8, label=f"best (epoch {epochs[best]})")
    ax_acc.set(xlabel="epoch", ylabel="pairwise accuracy (%)", title="Validation accuracy")
    ax_acc.legend()
    fig.tight_layout()
    return fig
