"""``i2pa eval-pairs``: the pairwise accuracy of a model on a pair list (paper Sec. 4).

A partial download of the released list misses many images, so skipped images are summarised,
one line per kind of problem with a count and the first example; ``--problems`` lists them all.
"""

from __future__ import annotations

from pathlib import Path

from i2pa_core.cli.common import UserError
from i2pa_core.cli.weights import (add_model_options, device, image_progress, load_model,
                                   stderr_note)


def _run_eval_pairs(args) -> int:
    from i2pa_core.evaluate.scoring import evaluate_pairs
    from i2pa_core.io.files import write_json, write_text
    from i2pa_core.io.pair_list import read_pairs
    from i2pa_core.io.posts import read_image_column

    note = stderr_note(args.verb)
    pairs = read_pairs(args.pairs, args.split)
    if not len(pairs):
        raise UserError(f"{args.pairs}: no pairs" + (f" of split {args.split!r}" if args.split
                                                     else ""))
    if not args.images.is_dir():
        raise UserError(f"{args.images}: not a folder")
    image_paths = read_image_column(args.posts)
    loaded = load_model(args, note)
    bar = image_progress(None, args)

    def advance(_module, inputs, _output):  # a forward hook must return None
        bar.update(len(inputs[0]))

    hook = loaded.model.register_forward_hook(advance)
    try:
        result = evaluate_pairs(pairs, args.images, loaded.model, loaded.transform, args.ext,
                                image_paths, args.batch, args.max_pixels, device(args),
                                rng=args.seed)
    finally:
        hook.remove()
        bar.close()
    problems = result.pop("problems")
    _summarise(problems, note, args.problems)
    if args.problems:
        write_text(args.problems, problems.to_csv(index=False))
    if args.out:
        write_json(args.out, {**result, "model": loaded.provenance})
    if result["n"] == 0:
        raise UserError(f"no pair could be scored ({result['pairs_skipped']:,} pairs skipped)")
    print(f"pairwise accuracy {100 * result['accuracy']:.2f} % (95 % CI "
          f"{100 * result['ci_low']:.2f}-{100 * result['ci_high']:.2f}), n = {result['n']:,} of "
          f"{result['n_pairs']:,} pairs; images: {result['images']:,}, scored "
          f"{result['scored']:,}, missing {result['missing']:,}, unreadable "
          f"{result['unreadable']:,}, unsafe {result['unsafe']:,}")
    if result["pairs_skipped"]:
        note(f"warning: {result['pairs_skipped']:,} of {result['n_pairs']:,} pairs skipped "
             "(an image missing or unreadable)")
    return 0


def _summarise(problems, note, listed: Path | None) -> None:
    """One stderr line per kind of skipped image: how many, and the first one."""
    where = f"all listed in {listed}" if listed else "--problems FILE lists them all"
    for kind, rows in problems.groupby("kind", sort=True):
        first = rows.iloc[0]
        note(f"skipped {len(rows):,} {kind} image{'s' if len(rows) > 1 else ''} (first: "
             f"{first['post_id']}: {first['reason']}); {where}")


def register_eval_pairs(verbs) -> None:
    """Add the verb ``eval-pairs`` to the ``i2pa`` sub-parsers."""
    p = verbs.add_parser(
        "eval-pairs", help="pairwise accuracy of a model on image pairs",
        description="Pairwise accuracy (share of pairs whose more popular image scores higher; "
        "ties count half), n and a 95 % bootstrap CI, on the pairs whose two images exist. "
        "PAIRS is our pairs table (a_post_id = the more popular, .parquet or .csv) or the "
        "authors' Low_popularity,High_popularity list. Images are DIR/<post_id><ext>, or the "
        "posts table's image column with --posts; missing, unreadable and unsafe ones are "
        "counted, one line per kind on stderr (--problems lists every one).",
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
    p.add_argument("--out", type=Path, metavar="JSON",
                   help="also write the figures and the model's provenance as JSON")
    p.add_argument("--problems", type=Path, metavar="CSV",
                   help="also write every skipped image with its reason as CSV")
    add_model_options(p)
    p.set_defaults(run=_run_eval_pairs)
