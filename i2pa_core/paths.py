"""Every pipeline path that more than one stage or tool uses, in one place.

Paths are relative to the repository root, where ``dvc repro`` runs the stages. A stage's own
outputs (its figures, ``results/<stage>/``) are named in its notebook and in ``dvc.yaml``; what
one stage writes and another reads is named here, so that a rename cannot miss a reader.
"""

from __future__ import annotations

SIMULATE_DIR = "data/simulate"                 # stage simulate: the platform's tables
POSTS = f"{SIMULATE_DIR}/posts.parquet"        # the posts table (io.posts format)
TRUTH = f"{SIMULATE_DIR}/truth.parquet"        # the hidden ground truth of each post
PAIRS_DIR = "data/pairs"
PAIRS = f"{PAIRS_DIR}/pairs.parquet"           # stage pairs: the PDIPs with their split
RENDER = "data/render"                         # stage render: the PDIP posts' images
RENDER_MANIFEST = f"{RENDER}/images.md5"
IMAGES_DIR = "data/images"                     # stage images: the check of the PDIP images
IMAGE_MANIFEST = f"{IMAGES_DIR}/manifest.csv"  # post_id, image, md5 of each usable image
IMAGE_PROBLEMS = f"{IMAGES_DIR}/problems.csv"  # post_id, image, kind, reason of the others
HUMAN_DIR = "data/human"                       # stage human: plan, answers, subjects
HUMAN_PLAN = f"{HUMAN_DIR}/plan.json"
HUMAN_RESPONSES = f"{HUMAN_DIR}/responses.csv"
TRAIN_DIR = "models/train"                     # stage train: checkpoints and test scores
BEST_CHECKPOINT = f"{TRAIN_DIR}/best.pt"
TEST_SCORES = f"{TRAIN_DIR}/test_scores.parquet"
RUN_SCORES = f"{TRAIN_DIR}/runs/test_scores.parquet"  # every training run's test scores
FROZEN_FEATURES = "data/features"              # stage evaluate: cached frozen-encoder features
RESULTS = "results"                            # results/<stage>/: executed notebook, metrics
ABLATE_RESULTS = f"{RESULTS}/ablate"           # one folder per ablation run
FIGURES = "figures"


def metrics_file(stage: str) -> str:
    """``results/<stage>/metrics.json``: the metrics that a stage writes."""
    return f"{RESULTS}/{stage}/metrics.json"
