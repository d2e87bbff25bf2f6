"""Plots people would rather look at than read: error vs horizon, predicted vs true trajectories."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mosim.systems.layout import QPOS_WIDTH, QVEL_WIDTH, JointLayout


def _pyplot():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_error_vs_horizon(curves: Mapping[str, np.ndarray], path: str | os.PathLike[str], dt: float | None = None,
                          title: str = "") -> Path:
    """One line per model: MSE (raw qpos/qvel) at each predicted step, log scale."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, curve in curves.items():
        steps = np.arange(1, len(curve) + 1)
        ax.plot(steps, curve, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("prediction step" + (f" (x {dt:g} s)" if dt else ""))
    ax.set_ylabel("MSE at step (raw qpos/qvel)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_trajectories(true: np.ndarray, predictions: Mapping[str, np.ndarray], labels: Sequence[str],
                      entries: Sequence[int], path: str | os.PathLike[str], dt: float = 1.0, title: str = "") -> Path:
    """True vs predicted state entries over time: ``true (T+1, D)``, each prediction ``(T+1, D)``."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(entries), 1, figsize=(7, 1.9 * len(entries)), sharex=True, squeeze=False)
    t = np.arange(true.shape[0]) * dt
    for ax, i in zip(axes[:, 0], entries):
        ax.plot(t, true[:, i], color="black", lw=2, label="MuJoCo")
        for name, pred in predictions.items():
            ax.plot(t, pred[:, i], lw=1.2, label=name)
        ax.set_ylabel(labels[i], fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[0, 0].set_title(title)
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def state_labels(layout: JointLayout) -> list[str]:
    """``qpos[i] joint`` / ``qvel[i] joint`` labels for ``concat(qpos, qvel)``."""
    q_owner, v_owner = [""] * layout.nq, [""] * layout.nv
    for j, t in enumerate(layout.types):
        name = layout.names[j] or f"joint{j}"
        for k in range(QPOS_WIDTH[t]):
            q_owner[layout.qpos_adr[j] + k] = name
        for k in range(QVEL_WIDTH[t]):
            v_owner[layout.qvel_adr[j] + k] = name
    return [f"qpos[{i}] {q_owner[i]}" for i in range(layout.nq)] + [f"qvel[{i}] {v_owner[i]}" for i in range(layout.nv)]
