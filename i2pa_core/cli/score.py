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
from i2pa_core.cli.weights import (add_model_options, device, image_progress, load_model,
                                   stderr_note)

FORMATS = ("table", "csv", "json")
MODEL_COLUMNS = ("backbone", "preset", "weights", "weights_sha256", "score_100_scale")
_RESCALE = ("score_100, the score's percentile among reference scores: the empirical percentile "
            "among the validation images' scores stored in the checkpoint, or, for a checkpoint "
            "without them (the authors' weights, an older checkpoint, --reference), "
            "100 * Phi((score - mean) / std) under a Gaussian fit (the paper's Fig. 5: mean "
            "2.96, std 1.55); the scale used is named on stderr and in csv/json")


def _note(args, text: str) -> None:
    stderr_note(args.verb)(text)


def _finish(args, n_ok: int, n_skipped: int, what: str = "files") -> int:
    if n_ok == 0:
        noun = what[:-1] if n_skipped == 1 else what
        raise UserError(f"nothing could be scored ({n_skipped:,} {noun} skipped, listed above)")
    if n_skipped:
        _note(args, f"warning: {n_skipped:,} of {n_ok + n_skipped:,} {what} skipped "
                    "(listed above with their reasons)")
    return 0


class RowWriter:
    """Streams rows to ``out`` as an aligned table, CSV or JSON (written as it goes).

    CSV rows end with the model's columns (:data:`MODEL_COLUMNS`), and JSON is an object
    ``{"model": {...}, "rows": [...]}``, so a score file always says which model, preset and
    weights (with their sha256) made it; the table says so on stderr.
    """

    def __init__(self, out, fmt: str, columns: list[str], provenance: dict):
        self.out, self.fmt, self.columns, self.count = out, fmt, columns, 0
        self.model = [provenance[c] for c in MODEL_COLUMNS]
        if fmt == "csv":
            self.csv = csv.writer(out, lineterminator="\n")
            self.csv.writerow(columns + list(MODEL_COLUMNS))
        elif fmt == "table":
            out.write("  ".join(f"{c:>9}" for c in columns[:-1]) + f"  {columns[-1]}\n")
        else:
            out.write('{"model": ' + json.dumps(provenance) + ', "rows": [')

    def write(self, values: list) -> None:
        if self.fmt == "csv":
            self.csv.writerow(["" if _nan(v) else v for v in values] + self.model)
        elif self.fmt == "table":
            cells = [f"{v:>9.4f}" if isinstance(v, float) else f"{v:>9}" for v in values[:-1]]
            self.out.write("  ".join(cells) + f"  {values[-1]}\n")
        else:
            record = {c: (None if _nan(v) else v) for c, v in zip(self.columns, values)}
            self.out.write(("," if self.count else "") + "\n" + json.dumps(record))
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]}\n")
        self.out.flush()


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _scored_rows(args, inputs):
    """Load the model and stream one ScoredImage per file found under ``inputs``."""
    from i2pa_core.io.images import iter_image_files
    from i2pa_core.evaluate.scoring import iter_scores

    loaded = load_model(args, stderr_note(args.verb))
    items = image_progress(iter_image_files(inputs), args)
    return loaded, iter_scores(items, loaded.model, loaded.transform, args.batch,
                               loaded.reference, args.max_pixels, device(args))


def _skip_line(args, row) -> None:
    _note(args, f"skipped {row.path}: {row.error}")


def _run_score(args) -> int:
    loaded, rows = _scored_rows(args, args.inputs)
    with_errors = args.format != "table"  # the table lists scored files; skips go to stderr
    writer = RowWriter(sys.stdout, args.format,
                       ["score", "score_100", "path"] + (["error"] if with_errors else []),
                       loaded.provenance)
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
    loaded, rows = _scored_rows(args, [args.folder])
    ranking = top_k(rows, args.top, on_skip=lambda row: _skip_line(args, row))
    writer = RowWriter(sys.stdout, args.format, ["rank", "score", "score_100", "path"],
                       loaded.provenance)
    for rank, path, score, score_100 in ranking.top.itertuples(index=False):
        writer.write([int(rank), float(score), float(score_100), path])
    writer.close()
    return _finish(args, ranking.n_scored, len(ranking.skipped))


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
    add_model_options(p, FORMATS)
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
    add_model_options(p, FORMATS)
    p.set_defaults(run=_run_rank)


def register_score(verbs) -> None:
    """Add the verbs ``score``, ``rank`` and ``eval-pairs`` to the ``i2pa`` sub-parsers."""
    from i2pa_core.cli.eval_pairs import register_eval_pairs

    _register_score_verb(verbs)
    _register_rank(verbs)
    register_eval_pairs(verbs)
