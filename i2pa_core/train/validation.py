"""Validation accuracy of a scorer on pairs, and the training-curve figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from i2pa_core.metrics import pair_outcomes
from i2pa_core.plots.style import plt
from i2pa_core.model.inference import pair_logit, score_images
from i2pa_core.train.data import PairSet


def pair_accuracy(model: torch.nn.Module, pairs: PairSet, preset: str, **kwargs) -> float:
    """Pairwise accuracy on a PairSet (A the more popular; ties count one half)."""
    scores = score_images(model, pairs.paths, preset, **kwargs)
    o = pair_logit(scores.__getitem__, pairs.a_index, pairs.b_index)  # (B,) f(A) - f(B)
    return float(pair_outcomes(o, np.zeros_like(o)).mean())


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
