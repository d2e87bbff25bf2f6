"""Train/validation/test splits by whole episodes (pure functions)."""

from __future__ import annotations

import numpy as np

from mosim.errors import InvalidInputError

SPLIT_NAMES = ("train", "val", "test")
SPLIT_CODES = {name: i for i, name in enumerate(SPLIT_NAMES)}


def split_counts(n_episodes: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    """Episodes per split. With 3 or more episodes, every split with a positive fraction gets one."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise InvalidInputError(f"split fractions must be three non-negative numbers adding to 1, got {fractions}")
    n_val = int(round(n_episodes * fractions[1]))
    n_test = int(round(n_episodes * fractions[2]))
    if n_episodes >= 3:
        n_val = max(n_val, 1 if fractions[1] > 0 else 0)
        n_test = max(n_test, 1 if fractions[2] > 0 else 0)
    n_train = n_episodes - n_val - n_test
    if n_train < 1 and fractions[0] > 0:
        raise InvalidInputError(f"{n_episodes} episodes are too few for the split {fractions}")
    return n_train, n_val, n_test


def split_episodes(n_episodes: int, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """A split code per episode (0 train, 1 val, 2 test), assigned by a seeded permutation."""
    counts = split_counts(n_episodes, fractions)
    codes = np.repeat(np.arange(3, dtype=np.uint8), counts)
    perm = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED])).permutation(n_episodes)
    out = np.empty(n_episodes, dtype=np.uint8)
    out[perm] = codes
    return out
