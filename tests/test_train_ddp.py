"""Two-process DistributedDataParallel on CPU (gloo) matches the single-process run.

tinycnn has no batch norm, so each global batch's gradient is the same whether one process
computes it or two processes average their interleaved halves (equal halves: 16 training pairs,
8 per batch, 4 per process). Only float summation order differs: tolerance 1e-5.

The head's bias is left out: it cancels in O = f(A) - f(B), so its gradient is pure rounding
noise (~1e-9) that Adam normalises into steps of size lr; it differs between runs by chance and
never changes a pair's outcome.
"""

import torch
import torch.multiprocessing as mp

from i2pa_core.io.checkpoint import load_checkpoint
from i2pa_core.train.loop import train_model
from i2pa_core.train.ddp import spawned_worker
from test_train import TINY, make_tiny_data


def test_two_process_ddp_matches_single_process(tmp_path):
    pairs, posts = make_tiny_data(tmp_path)
    cfg = TINY.__class__(**{**TINY.__dict__, "epochs": 2})
    single = train_model(cfg, pairs, posts, tmp_path, tmp_path / "one", 0, False, live=False)
    kwargs = dict(cfg=cfg, pairs=pairs, posts=posts, image_root=tmp_path, out_dir=tmp_path / "two",
                  seed=0, progress=False, live=False)
    init = f"file://{tmp_path / 'rendezvous'}"
    mp.spawn(spawned_worker, args=(2, init, kwargs), nprocs=2, join=True)
    a = load_checkpoint(single.last_checkpoint_path)
    b = load_checkpoint(tmp_path / "two" / "last.pt")
    assert a["epoch"] == b["epoch"] == 1
    for key in a["model"]:
        if key == "net.head.bias":  # tinycnn's head bias (see the module docstring)
            continue
        assert torch.allclose(a["model"][key], b["model"][key], atol=1e-5), key
    assert b["history"]["train_loss"] == __import__("pytest").approx(a["history"]["train_loss"],
                                                                      abs=1e-5)
