"""Many independent training runs at once: a pool of fresh processes, one thread each.

The studies (Tables 2 and 3 in the ``ablate`` stage, the retrains of the ``beyond`` stage) train
several runs per setting. :func:`map_runs` trains them ``workers`` at a time in spawned
processes (no fork of a process that runs torch), hands each process the large read-only inputs
once (``shared``: the posts table, the ground truth, the image root), and returns the results in
the order of the tasks. Each run sets one torch thread, in the pool and in this process alike,
so its numbers do not depend on ``workers`` nor on the machine's core count.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import torch
from tqdm.auto import tqdm

_SHARED: dict = {}   # what a worker process was given once (``shared`` of map_runs)


def _start(function: Callable, shared: dict) -> None:
    torch.set_num_threads(1)
    _SHARED.clear()
    _SHARED.update(shared, __function__=function)


def _call(task):
    function = _SHARED["__function__"]
    return function(task, **{k: v for k, v in _SHARED.items() if k != "__function__"})


def map_runs(function: Callable, tasks: Sequence, shared: dict | None = None, workers: int = 1,
             progress: bool = True, desc: str = "runs") -> list:
    """``[function(task, **shared) for task in tasks]``, ``workers`` tasks at a time.

    Args:
        function: a module-level function (it is pickled by name into the workers).
        tasks: one picklable item per run.
        shared: keyword arguments given to every call, sent once per worker process.
        workers: processes at once; 1 runs the tasks in this process (one torch thread while
            they run, the thread count restored afterwards).
        progress: a progress bar over the runs.
    Returns:
        the results, in the order of ``tasks``.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    shared = dict(shared or {})
    bar = dict(total=len(tasks), desc=desc, unit="run", disable=not progress)
    if workers == 1 or len(tasks) <= 1:
        threads = torch.get_num_threads()
        try:
            _start(function, shared)
            return [_call(task) for task in tqdm(tasks, **bar)]
        finally:
            _SHARED.clear()
            torch.set_num_threads(threads)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=context, initializer=_start,
                             initargs=(function, shared)) as pool:
        return list(tqdm(pool.map(_call, tasks), **bar))
