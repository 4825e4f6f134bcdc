"""The scoring network f of the paper's Siamese model (Sec. 3.2), chosen by name.

``build_scorer(name)`` returns a :class:`Scorer`: a backbone whose last layer is replaced by a
1-output fully connected layer with He initialisation, mapping ``(B, 3, H, W) -> (B,)``. The Siamese
pair model O_AB = f(A) - f(B) shares this one network (see :mod:`i2pa_core.model.losses`,
:mod:`i2pa_core.train.loop`).

ImageNet-pretrained weights come through torchvision's weights API, strictly offline: the file
must already be in the torch hub cache (``$TORCH_HOME/hub/checkpoints/<name of weights.url>``),
otherwise :class:`PretrainedWeightsMissing` says which file to place where. The network is never
tried.

:func:`load_scorer` reads our checkpoints and the authors' released ``model-resnet50.pth`` (a
plain state_dict of torchvision's resnet50 with ``fc = Linear(2048, 1)``), always with
``torch.load(..., weights_only=True)``, so a pickle that carries code is refused.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torchvision
from torch import nn

from i2pa_core.io.checkpoint import CheckpointError


class PretrainedWeightsMissing(RuntimeError):
    """ImageNet weights are requested but not in the offline torch hub cache."""


@dataclass(frozen=True)
class Backbone:
    """How to build one backbone: torchvision name (or a local factory) and its last layer."""

    tv_name: str | None          # torchvision model name; None for the small local CNNs
    head_path: str               # attribute path of the last Linear layer inside the network
    weights: str | None = None   # torchvision weights enum member used when pretrained=True
    factory: Callable[[], nn.Module] | None = None


def _small_cnn() -> nn.Module:
    """Five 3x3 conv layers (BN, ReLU, 2x2 max-pool), global average pool, 1-output head.

    ~0.25 M parameters; sized for the 64 px synthetic images on a CPU: (B, 3, 64, 64) -> (B, 1),
    about 20 s per epoch of 13 k pairs on 2 cores (channels_last). Full resolution in the first
    layer keeps pixel noise and sharpness visible (they enter the hidden score q).
    """
    widths = (3, 16, 32, 64, 128, 128)
    layers: list[tuple[str, nn.Module]] = []
    for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        layers += [(f"conv{i}", nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)),
                   (f"bn{i}", nn.BatchNorm2d(c_out)), (f"relu{i}", nn.ReLU(inplace=True))]
        if i < len(widths) - 1:
            layers.append((f"pool{i}", nn.MaxPool2d(2)))
    return _named_stack(layers, widths[-1])


def _tiny_cnn() -> nn.Module:
    """Two conv layers without batch norm (for tests and smoke runs): (B, 3, H, W) -> (B, 1).

    No batch norm, so a data-parallel run is exactly the full-batch run (per-sample gradients).
    """
    return _named_stack([("conv1", nn.Conv2d(3, 8, 3, stride=2, padding=1)),
                         ("relu1", nn.ReLU(inplace=True)),
                         ("conv2", nn.Conv2d(8, 8, 3, stride=2, padding=1)),
                         ("relu2", nn.ReLU(inplace=True))], 8)


def _named_stack(layers: list[tuple[str, nn.Module]], width: int) -> nn.Sequential:
    """``layers``, then global average pooling and the 1-output ``head``: (B, 3, H, W) -> (B, 1)."""
    return nn.Sequential(OrderedDict(layers + [("gap", nn.AdaptiveAvgPool2d(1)),
                                               ("flatten", nn.Flatten()),
                                               ("head", nn.Linear(width, 1))]))


BACKBONES: dict[str, Backbone] = {
    "alexnet": Backbone("alexnet", "classifier.6", "IMAGENET1K_V1"),
    # The paper's unnamed "VGGNet" (Table 3); VGG-16 is the common reading (the variant is open).
    "vgg16": Backbone("vgg16", "classifier.6", "IMAGENET1K_V1"),
    "resnet18": Backbone("resnet18", "fc", "IMAGENET1K_V1"),
    # Paper default. IMAGENET1K_V1 is the 2017 torchvision release the 2019 paper could have used.
    "resnet50": Backbone("resnet50", "fc", "IMAGENET1K_V1"),
    "resnet101": Backbone("resnet101", "fc", "IMAGENET1K_V1"),
    # CPU default for the 64 px synthetic images.
    "smallcnn": Backbone(None, "head", factory=_small_cnn),
    "tinycnn": Backbone(None, "head", factory=_tiny_cnn),  # tests and smoke runs
}


class Scorer(nn.Module):
    """f: an image to its intrinsic popularity score, ``(B, 3, H, W) -> (B,)``."""

    def __init__(self, net: nn.Module, backbone: str):
        super().__init__()
        self.net = net
        self.backbone = backbone
        self.head_path = BACKBONES[backbone].head_path

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).squeeze(1)  # (B, 3, H, W) -> (B, 1) -> (B,)

    def head(self) -> nn.Linear:
        """The new 1-output layer (trained at the head learning rate)."""
        return self.net.get_submodule(self.head_path)

    def param_groups(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """(body parameters, head parameters), for the paper's two learning rates."""
        head_ids = {id(p) for p in self.head().parameters()}
        body = [p for p in self.parameters() if id(p) not in head_ids]
        return body, list(self.head().parameters())


def build_scorer(backbone: str, pretrained: bool = False) -> Scorer:
    """Build f by name (:data:`BACKBONES`), optionally ImageNet-pretrained (offline cache only).

    The last layer becomes ``Linear(in_features, 1)`` with He (kaiming-normal) weights and zero
    bias, as in the paper (Sec. 4.1).
    """
    spec = _spec(backbone)
    if spec.tv_name is None:
        if pretrained:
            raise ValueError(f"backbone {backbone!r} has no pretrained weights; "
                             f"use pretrained: false")
        net = spec.factory()
    else:
        net = torchvision.models.get_model(spec.tv_name, weights=None)
        if pretrained:
            net.load_state_dict(pretrained_state_dict(backbone))
        _replace_head(net, spec.head_path)
    _he_init(net.get_submodule(spec.head_path))
    return Scorer(net, backbone)


def _spec(backbone: str) -> Backbone:
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}")
    return BACKBONES[backbone]


def _replace_head(net: nn.Module, head_path: str) -> None:
    parent_path, _, name = head_path.rpartition(".")
    parent = net.get_submodule(parent_path) if parent_path else net
    old = getattr(parent, name) if not name.isdigit() else parent[int(name)]
    new = nn.Linear(old.in_features, 1)
    if name.isdigit():
        parent[int(name)] = new
    else:
        setattr(parent, name, new)


def _he_init(layer: nn.Linear) -> None:
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)


def pretrained_weights_file(backbone: str) -> Path:
    """Where torchvision's ImageNet weights for ``backbone`` must lie in the offline cache."""
    spec = _spec(backbone)
    weights = torchvision.models.get_model_weights(spec.tv_name)[spec.weights]
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def pretrained_state_dict(backbone: str) -> dict[str, torch.Tensor]:
    """The ImageNet state_dict of ``backbone`` from the torch hub cache; never downloads."""
    spec = _spec(backbone)
    weights = torchvision.models.get_model_weights(spec.tv_name)[spec.weights]
    path = pretrained_weights_file(backbone)
    if not path.is_file():
        raise PretrainedWeightsMissing(
            f"ImageNet weights for {backbone} are not in the offline cache: download "
            f"{weights.url} on a machine with internet and place it at {path} "
            f"(or set TORCH_HOME so that $TORCH_HOME/hub/checkpoints/{path.name} exists)")
    # The file exists, so torch.hub reads it from the cache without touching the network.
    return weights.get_state_dict(progress=False, weights_only=True)


def load_scorer(path: str | os.PathLike) -> tuple[Scorer, dict]:
    """Load our checkpoint or the authors' weights file; returns (model in eval mode, metadata).

    Our checkpoints are dicts with ``model`` (state_dict) and ``meta`` (backbone, preset, ...);
    anything else must be the authors' plain resnet50 state_dict (metadata: backbone resnet50,
    preset ``official``). Raises :class:`CheckpointError` with a one-line message naming the file.
    """
    obj = _safe_load(path)
    if isinstance(obj, dict) and "model" in obj and "meta" in obj:
        meta = dict(obj["meta"])
        backbone = meta.get("backbone")
        if backbone not in BACKBONES:
            raise CheckpointError(f"{path}: unknown backbone {backbone!r} in checkpoint metadata")
        model = _scorer_from_state(obj["model"], backbone, path, prefix="net.")
    else:
        model = _scorer_from_state(_strip_prefix(obj, "module."), "resnet50", path, prefix="")
        meta = {"backbone": "resnet50", "preset": "official", "source": "authors"}
    return model.eval(), meta


def _safe_load(path: str | os.PathLike):
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such weights file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses code; also truncated or non-torch files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: cannot be loaded safely (weights_only=True): "
                              f"{first}") from None


def _strip_prefix(state, prefix: str):
    if isinstance(state, dict) and state and all(isinstance(k, str) and k.startswith(prefix)
                                                 for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return state


def _scorer_from_state(state, backbone: str, path, prefix: str) -> Scorer:
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: not a state_dict of tensors")
    model = build_scorer(backbone, pretrained=False)
    target = model if prefix == "net." else model.net
    try:
        target.load_state_dict(state)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"{path}: state_dict does not fit {backbone}: {detail}") from None
    return model
