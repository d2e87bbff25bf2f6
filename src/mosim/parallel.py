"""Batch-parallel prediction on a multi-core CPU.

A batched rollout on the CPU is a chain of small operations (a few matrix products and element-wise kernels per
step). Splitting every one of them across the cores, as PyTorch does by default, synchronizes the cores once per
operation and streams each activation through every core's cache. Splitting the *batch* instead, one part per core
each rolled out on one thread from start to end, needs no synchronization until the end and keeps each part's
activations in its core's cache, as MuJoCo's own ``mujoco.rollout`` splits its batch over threads. How much that
buys is measured in ``results/model_speed.md``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import Tensor

from mosim.errors import InvalidInputError

_LOCK = threading.Lock()
"""one batch-parallel call at a time: the call sets PyTorch's process-wide thread count"""


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """PyTorch's intra-op thread count set to ``n`` inside the block, and restored after it (process-wide)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def split_batch(fn: Callable[..., tuple[Tensor, ...]], args: Sequence[Tensor], workers: int) -> tuple[Tensor, ...]:
    """``fn(*args)`` computed as ``workers`` calls on consecutive parts of the leading (batch) dimension of every
    argument, run at once on as many threads with one PyTorch thread each, and concatenated.

    Equal to ``fn(*args)`` for any ``fn`` that treats the entries of its batch independently. Arguments without a
    batch dimension, or a batch smaller than ``workers``, run as one call. Gradients flow through the parts.
    """
    if workers < 1:
        raise InvalidInputError(f"workers must be >= 1, got {workers}")
    batch = {a.shape[0] if a.ndim > 1 else None for a in args}
    if workers == 1 or len(batch) != 1 or None in batch or next(iter(batch)) < workers:
        return fn(*args)
    parts = [torch.tensor_split(a, workers) for a in args]
    grad = torch.is_grad_enabled()  # thread-local: the workers take the caller's

    def part(i: int) -> tuple[Tensor, ...]:
        with torch.set_grad_enabled(grad):
            return fn(*(p[i] for p in parts))

    with _LOCK, torch_threads(1), ThreadPoolExecutor(workers, thread_name_prefix="mosim-batch") as pool:
        outs = list(pool.map(part, range(workers)))
    return tuple(torch.cat(o, dim=0) for o in zip(*outs, strict=True))
