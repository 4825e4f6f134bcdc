"""Pairwise losses against hand-computed values; antisymmetry under swapping A and B."""

import math

import pytest
import torch

from i2pa_core.model.losses import LOSSES, bce_loss, fidelity_loss, get_loss, margin_ranking_loss


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_bce_hand_values():
    # l = -Pbar*O + ln(1 + e^O)
    got = bce_loss(t(0.0, 2.0, 2.0, -1.0), t(1.0, 1.0, 0.0, 0.5))
    want = [math.log(2), -2 + math.log(1 + math.e ** 2), math.log(1 + math.e ** 2),
            0.5 + math.log(1 + math.exp(-1))]
    assert got.tolist() == pytest.approx(want, abs=1e-12)


def test_bce_large_scores_do_not_overflow():
    got = bce_loss(t(1000.0, -1000.0), t(1.0, 0.0))
    assert got.tolist() == pytest.approx([0.0, 0.0], abs=1e-12)


def test_margin_ranking_hand_values():
    # max(0, 1 - y*O), y = +1 for label 1, -1 for label 0
    got = margin_ranking_loss(t(0.3, -0.5, 2.0, 2.0), t(1.0, 0.0, 1.0, 0.0))
    assert got.tolist() == pytest.approx([0.7, 0.5, 0.0, 3.0], abs=1e-12)


def test_fidelity_hand_values():
    # P = sigmoid(O): O = 0 -> 0.5; O = ln 3 -> 0.75
    got = fidelity_loss(t(0.0, math.log(3), math.log(3), 0.0), t(1.0, 1.0, 0.0, 0.5))
    want = [1 - math.sqrt(0.5), 1 - math.sqrt(0.75), 1 - math.sqrt(0.25), 0.0]
    assert got.tolist() == pytest.approx(want, abs=3e-4)  # eps inside the square roots


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_antisymmetry(name):
    gen = torch.Generator().manual_seed(0)
    o = torch.randn(50, generator=gen, dtype=torch.float64) * 3
    target = torch.cat([torch.ones(20), torch.zeros(20), torch.rand(10, generator=gen)]).double()
    loss = get_loss(name)
    assert torch.allclose(loss(o, target), loss(-o, 1 - target), atol=1e-12)


def test_unknown_loss_names_choices():
    with pytest.raises(ValueError, match="bce"):
        get_loss("mse")
