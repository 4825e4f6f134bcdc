"""Glue for the ``images`` stage: every PDIP post's image checked once, problems counted.

The stage writes ``data/images/manifest.csv`` (``post_id, image, md5`` of each usable image: a
change of any image re-runs the stages after it) and ``data/images/problems.csv`` (each missing,
unsafe, unreadable or tiny image with its reason), the table ``figures/image_check.*`` and the
counts in ``results/images/metrics.json``. The later stages leave out, and count, the PDIPs
that need a listed image (:func:`i2pa_core.io.tables.load_inputs`).
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from i2pa_core import paths
from i2pa_core.io.files import write_json, write_text, write_table
from i2pa_core.io.image_check import (PROBLEM_KINDS, check_images, pairs_with_usable_images,
                                      problem_counts)
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.io.tables import load_inputs


def check_pdip_images(data_section: Mapping | None,
                      metrics_path: str = "results/images/metrics.json") -> dict:
    """Check the images of every PDIP post (stage ``images``); returns its metrics."""
    inputs = load_inputs(data_section, problems_path=None)
    manifest, problems = check_images(inputs.posts, inputs.image_root,
                                      paired_post_ids(inputs.pdips))
    write_text(paths.IMAGE_MANIFEST, manifest.to_csv(index=False))
    write_text(paths.IMAGE_PROBLEMS, problems.to_csv(index=False))  # what load_inputs reads
    counts = problem_counts(problems)
    keep = pairs_with_usable_images(inputs.pdips, problems)
    write_table("figures/image_check", check_table(problems, len(manifest)),
                f"Images of the PDIP posts under {inputs.image_root}: usable, and each kind of "
                f"problem (left out with their PDIPs). {inputs.source.note}")
    metrics = {"n_images": int(len(manifest) + len(problems)), "n_usable": int(len(manifest)),
               **{f"n_{kind}": n for kind, n in counts.items()},
               "n_pdips": int(len(inputs.pdips)), "n_pdips_usable": int(keep.sum()),
               **inputs.source.as_metrics()}
    write_json(metrics_path, metrics)
    return metrics


def check_table(problems: pd.DataFrame, n_usable: int) -> pd.DataFrame:
    """One row per outcome: usable, then each problem kind, with a count and a first example."""
    rows = [{"outcome": "usable", "images": n_usable, "first example": ""}]
    for kind in PROBLEM_KINDS:
        these = problems[problems["kind"] == kind]
        first = f"{these.iloc[0]['post_id']}: {these.iloc[0]['reason']}" if len(these) else ""
        rows.append({"outcome": kind, "images": int(len(these)), "first example": first})
    return pd.DataFrame(rows)
