"""The scoring verbs of ``i2pa``: ``score``, ``rank`` and ``eval-pairs`` (added by
:func:`register_score`). The work is done by :mod:`i2pa_core.evaluate.scoring`; this module parses
arguments, loads the weights, prints and sets the exit code: 0 when every input was used, 0 with a
warning line when some were skipped (each skipped file is listed on stderr with its reason), 2 when
none could be used or the arguments are wrong.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

from i2pa_core.cli.common import UserError

DEFAULT_WEIGHTS = Path("models/train/best.pt")  # written by the pipeline's training stage
FORMATS = ("table", "csv", "json")
_NO_WEIGHTS = (f"no --weights given and the pipeline's model {DEFAULT_WEIGHTS} does not exist: "
               "train it with 'dvc repro' (the train stage writes it) or pass --weights CKPT, "
               "e.g. the authors' model-resnet50.pth with --preset official")
_RESCALE = ("score_100 = 100 * Phi((score - mean) / std), the percentile under a Gaussian fit of "
            "reference scores (from the checkpoint, else the paper's Fig. 5: mean 2.96, std 1.55)")


def load_model(args):
    """(model, preset name, ScoreReference) from --weights/--preset/--reference; says which."""
    from i2pa_core.model.scorer import CheckpointError, load_scorer
    from i2pa_core.model.presets import PRESETS
    from i2pa_core.evaluate.scoring import ScoreReference

    if args.batch < 1:
        raise UserError(f"--batch must be at least 1, got {args.batch}")
    path = args.weights or DEFAULT_WEIGHTS
    if args.weights is None and not DEFAULT_WEIGHTS.is_file():
        raise UserError(_NO_WEIGHTS)
    try:
        model, meta = load_scorer(path)
    except CheckpointError as exc:
        raise UserError(str(exc)) from None
    preset = args.preset or meta.get("preset") or "paper"
    if preset not in PRESETS:
        raise UserError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    reference = _reference(getattr(args, "reference", None)) or ScoreReference.from_meta(meta)
    _note(args, f"weights {path} ({meta.get('backbone', '?')}, preset {preset}); 0-100 scale: "
                f"{reference.source}, mean {reference.mean:g}, std {reference.std:g}")
    return model, preset, reference


def _reference(text: str | None):
    from i2pa_core.evaluate.scoring import ScoreReference

    if text is None:
        return None
    try:
        mean, std = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--reference expects MEAN,STD (e.g. 2.96,1.55), got {text!r}") from None
    if not std > 0:
        raise UserError(f"--reference: std must be positive, got {std}")
    return ScoreReference(mean, std, "--reference")


def _note(args, text: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"i2pa {args.verb}: {text}", file=sys.stderr)


def _progress(items, args, total=None):
    from tqdm import tqdm

    return tqdm(items, total=total, unit="img", file=sys.stderr, disable=args.quiet,
                desc=args.verb, dynamic_ncols=True)


def _finish(args, n_ok: int, n_skipped: int, what: str = "files") -> int:
    if n_ok == 0:
        noun = what[:-1] if n_skipped == 1 else what
        raise UserError(f"nothing could be scored ({n_skipped:,} {noun} skipped, listed above)")
    if n_skipped:
        _note(args, f"warning: {n_skipped:,} of {n_ok + n_skipped:,} {what} skipped "
                    "(listed above with their reasons)")
    return 0


class RowWriter:
    """Streams rows to ``out`` as an aligned table, CSV or a JSON array (written as it goes)."""

    def __init__(self, out, fmt: str, columns: list[str]):
        self.out, self.fmt, self.columns, self.count = out, fmt, columns, 0
        if fmt == "csv":
            self.csv = csv.writer(out, lineterminator="\n")
            self.csv.writerow(columns)
        elif fmt == "table":
            out.write("  ".join(f"{c:>9}" for c in columns[:-1]) + f"  {columns[-1]}\n")
        else:
            out.write("[")

    def write(self, values: list) -> None:
        if self.fmt == "csv":
            self.csv.writerow(["" if _nan(v) else v for v in values])
        elif self.fmt == "table":
            cells = [f"{v:>9.4f}" if isinstance(v, float) else f"{v:>9}" for v in values[:-1]]
            self.out.write("  ".join(cells) + f"  {values[-1]}\n")
        else:
            record = {c: (None if _nan(v) else v) for c, v in zip(self.columns, values)}
            self.out.write(("," if self.count else "") + "\n" + json.dumps(record))
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n")
        self.out.flush()


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _scored_rows(args, inputs):
    """Load the model and stream one ScoredImage per file found under ``inputs``."""
    from i2pa_core.io.images import iter_image_files
    from i2pa_core.evaluate.scoring import iter_scores

    model, preset, reference = load_model(args)
    items = _progress(iter_image_files(inputs), args)
    return iter_scores(items, model, preset, args.batch, reference, args.max_pixels,
                       _device(args))


def _skip_line(args, row) -> None:
    _note(args, f"skipped {row.path}: {row.error}")


def _run_score(args) -> int:
    rows = _scored_rows(args, args.inputs)
    with_errors = args.format != "table"  # the table lists scored files; skips go to stderr
    writer = RowWriter(sys.stdout, args.format,
                       ["score", "score_100", "path"] + (["error"] if with_errors else []))
    n_ok = n_skipped = 0
    for row in rows:
        n_ok, n_skipped = n_ok + (not row.error), n_skipped + bool(row.error)
        if row.error:
            _skip_line(args, row)
        if with_errors or not row.error:
            writer.write([row.score, row.score_100, row.path] + ([row.error] * with_errors))
    writer.close()
    return _finish(args, n_ok, n_skipped)


def _run_rank(args) -> int:
    from i2pa_core.evaluate.scoring import top_k

    if args.top < 1:
        raise UserError(f"--top must be at least 1, got {args.top}")
    if not args.folder.is_dir():
        raise UserError(f"{args.folder}: not a folder")
    ranking = top_k(_scored_rows(args, [args.folder]), args.top,
                    on_skip=lambda row: _skip_line(args, row))
    writer = RowWriter(sys.stdout, args.format, ["rank", "score", "score_100", "path"])
    for rank, path, score, score_100 in ranking.top.itertuples(index=False):
        writer.write([int(rank), float(score), float(score_100), path])
    writer.close()
    return _finish(args, ranking.n_scored, len(ranking.skipped))


def _device(args) -> str:
    import torch

    if args.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return args.device


def _add_model_options(p, rescale: bool = True) -> None:
    p.add_argument("--weights", type=Path, metavar="CKPT",
                   help=f"weights file: our checkpoint or the authors' model-resnet50.pth "
                   f"(default: the pipeline's model, {DEFAULT_WEIGHTS})")
    p.add_argument("--preset", metavar="NAME",
                   help="preprocessing preset: paper (resize 256, centre crop 224, ImageNet "
                   "normalisation), official (the authors' script: Resize([224, 224]), ToTensor) "
                   "or synthetic (64 px, as is); default: the checkpoint's preset")
    p.add_argument("--batch", type=int, default=32, metavar="N",
                   help="images per forward pass (default 32)")
    p.add_argument("--device", default="auto", metavar="DEV",
                   help="torch device: auto (cuda if available, else cpu), cpu, cuda, cuda:1")
    p.add_argument("--max-pixels", type=int, default=89_478_485, metavar="N",
                   help="refuse larger images as decompression bombs (default 89,478,485)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    if rescale:
        p.add_argument("--reference", metavar="MEAN,STD",
                       help="Gaussian fit of reference scores for the 0-100 scale (default: "
                       "the checkpoint's, else the paper's 2.96,1.55)")
        p.add_argument("--format", choices=FORMATS, default="table",
                       help="output: table (default), csv or json (an array), on stdout")


def _register_score_verb(verbs) -> None:
    p = verbs.add_parser(
        "score", help="score images: intrinsic popularity and a 0-100 scale",
        description="Score image files and folders (recursively, streamed in batches): the "
        f"intrinsic popularity score f(image) and {_RESCALE}. Unreadable, corrupt, oversized "
        "and non-image files are listed on stderr with their reason; csv and json also "
        "carry them with an error column.",
        epilog="examples: i2pa score photos/ --format csv > scores.csv\n"
        "          i2pa score a.jpg b.png --weights model-resnet50.pth --preset official")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IMAGE_OR_DIR",
                   help="image files and folders (folders are walked recursively)")
    _add_model_options(p)
    p.set_defaults(run=_run_score)


def _register_rank(verbs) -> None:
    p = verbs.add_parser(
        "rank", help="rank a folder's photos, best first",
        description=f"Score every image in a folder (recursively) and print the best --top "
        f"first with their scores ({_RESCALE}). Memory stays flat: only the best K are kept.",
        epilog="example: i2pa rank holiday/ --top 5 --weights model-resnet50.pth "
        "--preset official")
    p.add_argument("folder", type=Path, metavar="DIR", help="folder of images")
    p.add_argument("--top", type=int, default=10, metavar="K",
                   help="how many photos to list (default 10)")
    _add_model_options(p)
    p.set_defaults(run=_run_rank)


def _run_eval_pairs(args) -> int:
    from i2pa_core.io.files import write_json, write_text
    from i2pa_core.evaluate.scoring import evaluate_pairs
    from i2pa_core.io.pair_list import read_pairs
    from i2pa_core.io.posts import read_image_column

    pairs = read_pairs(args.pairs, args.split)
    if not args.images.is_dir():
        raise UserError(f"{args.images}: not a folder")
    image_paths = read_image_column(args.posts)
    model, preset, _ = load_model(args)
    bar = _progress(None, args)  # advanced by the images of each forward pass
    model.register_forward_hook(lambda _module, inputs, _out: bar.update(len(inputs[0])))
    result = evaluate_pairs(
        pairs, args.images, model, preset, args.ext, image_paths, args.batch, args.max_pixels,
        _device(args), rng=args.seed,
        on_skip=lambda pid, path, why: _note(args, f"skipped {pid} ({path}): {why}"))
    bar.close()
    problems = result.pop("problems")
    if args.problems:
        write_text(args.problems, problems.to_csv(index=False))
    if args.out:
        write_json(args.out, result)
    print(f"pairwise accuracy {100 * result['accuracy']:.2f} % (95 % CI "
          f"{100 * result['ci_low']:.2f}-{100 * result['ci_high']:.2f}), n = {result['n']:,} of "
          f"{result['n_pairs']:,} pairs; images: {result['images']:,}, scored "
          f"{result['scored']:,}, missing {result['missing']:,}, unreadable "
          f"{result['unreadable']:,}, unsafe {result['unsafe']:,}")
    return _finish(args, result["n"], result["pairs_skipped"], what="pairs")


def _register_eval_pairs(verbs) -> None:
    p = verbs.add_parser(
        "eval-pairs", help="pairwise accuracy of a model on image pairs",
        description="Pairwise accuracy (share of pairs whose more popular image scores higher; "
        "ties count half), n and a 95 % bootstrap CI, on the pairs whose two images exist. "
        "PAIRS is our pairs table (a_post_id = the more popular, .parquet or .csv) or the "
        "authors' Low_popularity,High_popularity list. Images are DIR/<post_id><ext>, or the "
        "posts table's image column with --posts; missing, unreadable and unsafe ones are "
        "listed on stderr and counted.",
        epilog="example: i2pa eval-pairs test_list.csv --images i2pa_images/ "
        "--weights model-resnet50.pth --preset official --out metrics.json")
    p.add_argument("pairs", type=Path, metavar="PAIRS", help="pairs table or released list")
    p.add_argument("--images", type=Path, required=True, metavar="DIR",
                   help="folder holding the images (nothing outside it is ever read)")
    p.add_argument("--ext", default=".jpg", help="file extension after the post id "
                   "(default .jpg)")
    p.add_argument("--posts", type=Path, metavar="TABLE", help="posts table whose image "
                   "column gives each post's path relative to DIR (e.g. simulated data)")
    p.add_argument("--split", metavar="NAME", help="only pairs of this split (e.g. test)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--out", type=Path, metavar="JSON", help="also write the figures as JSON")
    p.add_argument("--problems", type=Path, metavar="CSV",
                   help="also write every skipped image with its reason as CSV")
    _add_model_options(p, rescale=False)
    p.set_defaults(run=_run_eval_pairs)


def register_score(verbs) -> None:
    """Add the verbs ``score``, ``rank`` and ``eval-pairs`` to the ``i2pa`` sub-parsers."""
    _register_score_verb(verbs)
    _register_rank(verbs)
    _register_eval_pairs(verbs)
