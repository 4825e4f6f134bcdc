"""The model options that ``score``, ``rank`` and ``eval-pairs`` share: which weights, preset,
device and 0-100 reference, and what the outputs say about the model that made them."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from i2pa_core import paths
from i2pa_core.cli.common import UserError

# The pipeline's model, found from the package's own checkout (not the current folder).
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WEIGHTS = REPO_ROOT / paths.BEST_CHECKPOINT
SYNTHETIC_WARNING = (
    "warning: the default model was trained on the simulated platform (synthetic images, not "
    "photos): its scores carry no real-world meaning; pass --weights with a model trained on "
    "real photos (e.g. the authors' model-resnet50.pth --preset official)")


@dataclass(frozen=True)
class LoadedModel:
    """A scorer, the transform that feeds it, its 0-100 reference and where it came from."""

    model: object
    transform: object           # presets.Transform
    reference: object           # scoring.ScoreReference
    provenance: dict            # weights, weights_sha256, backbone, preset, input_size,
    #                             score_100_scale


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_model(args, note) -> LoadedModel:
    """The model of ``--weights`` (default: the pipeline's), with ``--preset`` and
    ``--reference``; ``note(text)`` says which, once, on stderr."""
    from i2pa_core.evaluate.scoring import ScoreReference
    from i2pa_core.io.checkpoint import CheckpointError
    from i2pa_core.model.presets import PRESETS, Transform
    from i2pa_core.model.scorer import load_scorer

    if args.batch < 1:
        raise UserError(f"--batch must be at least 1, got {args.batch}")
    path = args.weights or DEFAULT_WEIGHTS
    if args.weights is None and not DEFAULT_WEIGHTS.is_file():
        raise UserError(f"no --weights given and the pipeline's model {DEFAULT_WEIGHTS} does not "
                        "exist: train it with 'dvc repro' (the train stage writes it) or pass "
                        "--weights CKPT, e.g. the authors' model-resnet50.pth --preset official")
    try:
        model, meta = load_scorer(path)
    except CheckpointError as exc:
        raise UserError(str(exc)) from None
    preset = args.preset or meta.get("preset") or "paper"
    if preset not in PRESETS:
        raise UserError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    spec, size = PRESETS[preset], None
    if preset == "synthetic":  # no geometry of its own: score at the size the model learned
        size = tuple(meta.get("input_size") or (64, 64))
        spec = replace(spec, resize=size)
    reference = parse_reference(getattr(args, "reference", None)) or ScoreReference.from_meta(meta)
    provenance = {"weights": str(Path(path).resolve()), "weights_sha256": sha256(Path(path)),
                  "backbone": meta.get("backbone", "?"), "preset": preset,
                  "input_size": list(size) if size else None,
                  "score_100_scale": reference.describe()}
    note(f"weights {path} (sha256 {provenance['weights_sha256'][:12]}, {provenance['backbone']}, "
         f"preset {preset}{f', inputs resized to {size[1]}x{size[0]}' if size else ''}); "
         f"0-100 scale: {reference.describe()}")
    if args.weights is None and meta.get("preset") == "synthetic":
        note(SYNTHETIC_WARNING)
    return LoadedModel(model, Transform(spec, False, None), reference, provenance)


def parse_reference(text: str | None):
    """``--reference MEAN,STD`` as a ScoreReference, or None."""
    from i2pa_core.evaluate.scoring import ScoreReference

    if text is None:
        return None
    try:
        mean, std = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--reference expects MEAN,STD (e.g. 2.96,1.55), got {text!r}") from None
    if not std > 0:
        raise UserError(f"--reference: std must be positive, got {std}")
    return ScoreReference(mean, std, "--reference MEAN,STD")


def device(args) -> str:
    """``--device``, with ``auto`` as cuda when one is present, else cpu."""
    import torch

    if args.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return args.device


def add_model_options(p, formats=None) -> None:
    """--weights, --preset, --batch, --device, --max-pixels, --quiet (and, with ``formats``,
    --reference and --format)."""
    p.add_argument("--weights", type=Path, metavar="CKPT",
                   help=f"weights file: our checkpoint or the authors' model-resnet50.pth "
                   f"(default: the pipeline's model, {paths.BEST_CHECKPOINT} of this checkout)")
    p.add_argument("--preset", metavar="NAME",
                   help="preprocessing preset: paper (resize 256, centre crop 224, ImageNet "
                   "normalisation), official (the authors' script: Resize([224, 224]), ToTensor) "
                   "or synthetic (resized to the size the model was trained at); default: the "
                   "checkpoint's preset")
    p.add_argument("--batch", type=int, default=32, metavar="N",
                   help="images per forward pass (default 32)")
    p.add_argument("--device", default="auto", metavar="DEV",
                   help="torch device: auto (cuda if available, else cpu), cpu, cuda, cuda:1")
    p.add_argument("--max-pixels", type=int, default=89_478_485, metavar="N",
                   help="refuse larger images as decompression bombs (default 89,478,485)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    if formats:
        p.add_argument("--reference", metavar="MEAN,STD",
                       help="0-100 scale as the percentile under this Gaussian (default: the "
                       "empirical percentile among the reference scores stored in the "
                       "checkpoint; a checkpoint with only a Gaussian fit uses that; the "
                       "authors' weights the paper's Fig. 5 fit, 2.96,1.55)")
        p.add_argument("--format", choices=formats, default="table",
                       help="output on stdout: table (default), csv (with the model's columns) "
                       "or json (an object: the model, then the rows)")


def stderr_note(verb: str):
    """``note(text)`` printing ``i2pa VERB: text`` on stderr without breaking a progress bar."""
    from tqdm import tqdm

    return lambda text: tqdm.write(f"i2pa {verb}: {text}", file=sys.stderr)


def image_progress(items, args):
    """The progress bar of the image verbs on stderr (off with --quiet); ``items`` None gives a
    bar advanced by hand."""
    from tqdm import tqdm

    return tqdm(items, unit="img", file=sys.stderr, disable=args.quiet, desc=args.verb,
                dynamic_ncols=True)
