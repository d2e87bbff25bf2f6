"""Off-policy agents from Stable-Baselines3 and sb3-contrib by name, saved atomically, and a trained agent as a
data-collection policy.

Collect a policy ("-e") dataset with a trained agent (deterministic actions plus Gaussian noise drawn from the
episode's own generator, so the data are a function of the seed)::

    mosim collect --system reacher-easy --out data/reacher-e.h5 --policy mosim.rl.agents:SB3Policy \\
        --policy-param path=runs/rl/reacher/agent.zip --policy-param noise=0.1 --workers 1

or ``mosim rl collect --agent runs/rl/reacher/agent.zip --system reacher-easy --out data/reacher-e.h5``.
"""

from __future__ import annotations

import copy
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mosim.atomic import atomic_path
from mosim.data.policies import CallablePolicy
from mosim.errors import InvalidInputError, UnknownNameError


def _algorithms() -> dict[str, Any]:
    from sb3_contrib import TQC, CrossQ
    from stable_baselines3 import DDPG, SAC, TD3

    return {"sac": SAC, "td3": TD3, "tqc": TQC, "ddpg": DDPG, "crossq": CrossQ}


ALGORITHM_NAMES = ("sac", "td3", "tqc", "ddpg", "crossq")
"""the off-policy algorithms with continuous actions: SB3's SAC, TD3, DDPG and sb3-contrib's TQC, CrossQ"""
NOISE_ALGORITHMS = ("td3", "ddpg")
"""deterministic actors: they get Gaussian exploration noise of std 0.1 (of the half range) by default"""


def algorithm(name: str) -> Any:
    """The SB3 class of an algorithm name (``sac``, ``td3``, ``tqc``, ``ddpg``, ``crossq``)."""
    algos = _algorithms()
    key = str(name).lower()
    if key not in algos:
        raise UnknownNameError(f"unknown algorithm {name!r}; valid: {', '.join(ALGORITHM_NAMES)}")
    return algos[key]


def make_agent(name: str, env: Any, seed: int, device: str = "cpu", **kwargs: Any) -> Any:
    """A new agent of algorithm ``name`` on ``env`` (``MlpPolicy``); ``kwargs`` go to the constructor."""
    cls = algorithm(name)
    kwargs = copy.deepcopy(kwargs)  # SB3 adds entries to policy_kwargs; the caller's config stays as it was
    if name.lower() in NOISE_ALGORITHMS and "action_noise" not in kwargs:
        from stable_baselines3.common.noise import NormalActionNoise

        nu = env.action_space.shape[0]
        half = (env.action_space.high - env.action_space.low) / 2.0
        kwargs["action_noise"] = NormalActionNoise(np.zeros(nu), 0.1 * half)
    try:
        return cls("MlpPolicy", env, seed=seed, device=device, verbose=0, **kwargs)
    except TypeError as e:
        raise InvalidInputError(f"bad options for {name}: {e}") from None


def save_agent(agent: Any, path: str | os.PathLike[str]) -> Path:
    """``agent.save`` to ``path`` atomically (a crash never leaves a half-written zip)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        agent.save(fh)
    return path


def agent_algorithm(path: str | os.PathLike[str]) -> str:
    """The algorithm name of a saved agent, read from its policy class."""
    try:
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise InvalidInputError(f"{path}: not a Stable-Baselines3 agent file ({type(e).__name__}: {e})") from None
    module = str(data.get("policy_class", {}).get("__module__", ""))
    for name in ALGORITHM_NAMES:
        if f".{name}." in f".{module}.":
            return name
    raise InvalidInputError(f"{path}: cannot tell the algorithm from the policy class {module!r}; pass algo=")


def load_agent(path: str | os.PathLike[str], algo: str | None = None, env: Any = None, device: str = "cpu") -> Any:
    """Load a saved agent (the algorithm is read from the file unless given)."""
    if not Path(path).is_file():
        raise InvalidInputError(f"{path}: no such agent file")
    return algorithm(algo or agent_algorithm(path)).load(path, env=env, device=device)


class SB3Policy(CallablePolicy):
    """A saved SB3 agent as a collection policy: ``agent.predict(obs, deterministic)`` plus optional noise.

    :param path: the agent's ``.zip``
    :param algo: its algorithm (default: read from the file)
    :param deterministic: the agent's mean action (otherwise a sample, from torch's global generator, which
        makes the data depend on the number of workers)
    :param noise: std of Gaussian noise added to each action, as a fraction of the bound width (drawn from the
        episode's generator)
    """

    def __init__(self, path: str, algo: str | None = None, deterministic: bool = True, noise: float = 0.0) -> None:
        import torch

        torch.set_num_threads(1)
        self.path, self.deterministic = str(path), bool(deterministic)
        self.agent = load_agent(path, algo)
        self.algo = algo or agent_algorithm(path)
        super().__init__(self._act, name=f"sb3-{self.algo}", noise=noise)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self.agent.predict(np.asarray(obs, dtype=np.float32), deterministic=self.deterministic)[0]

    def params(self) -> dict[str, Any]:
        return {"path": self.path, "algo": self.algo, "deterministic": self.deterministic, "noise": self.noise}
