"""Pairwise losses on the Siamese output O_AB = f(A) - f(B) (paper Sec. 3.2, Eq. 7-9), by name.

Each loss is a pure function ``loss(o, target) -> (B,)`` of the score difference ``o`` (B,) and the
target probability ``target`` (B,) that A is more popular (1: A, 0: B; soft values allowed where
the formula allows them). All are antisymmetric in the sense that swapping A and B (``o -> -o``)
together with the label (``target -> 1 - target``) leaves the loss unchanged.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def bce_loss(o: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on P_AB = sigmoid(O_AB), Eq. 7-9: l = -Pbar * O + ln(1 + e^O).

    Written with softplus, which is ln(1 + e^O) without overflow. (B,), (B,) -> (B,).
    """
    return F.softplus(o) - target * o


def margin_ranking_loss(o: torch.Tensor, target: torch.Tensor,
                        margin: float = 1.0) -> torch.Tensor:
    """Hinge (margin ranking) loss: l = max(0, margin - y * O) with y = 2 Pbar - 1 in {-1, +1}.

    (B,), (B,) -> (B,).
    """
    sign = 2.0 * target - 1.0
    return torch.clamp(margin - sign * o, min=0.0)


def fidelity_loss(o: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Fidelity loss (Tsukida & Gupta): l = 1 - sqrt(Pbar P) - sqrt((1 - Pbar)(1 - P)).

    P = sigmoid(O). ``eps`` inside the square roots keeps the gradient finite when a product is
    0 (a hard label); it moves the value by at most ~2 sqrt(eps) = 2e-4. (B,), (B,) -> (B,).
    """
    p = torch.sigmoid(o)
    return 1.0 - torch.sqrt(target * p + eps) - torch.sqrt((1.0 - target) * (1.0 - p) + eps)


LOSSES: dict[str, LossFn] = {
    "bce": bce_loss,          # the paper's loss (default)
    "hinge": margin_ranking_loss,
    "fidelity": fidelity_loss,
}


def get_loss(name: str) -> LossFn:
    """The loss function called ``name`` in :data:`LOSSES`."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[name]
