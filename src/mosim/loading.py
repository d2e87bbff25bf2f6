"""``mosim.load``: a trained simulator from a checkpoint, for batched prediction from numpy or torch."""

from __future__ import annotations

import os
import warnings
from typing import Any

import torch

from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, build_model
from mosim.models.base import DynamicsModel
from mosim.systems.base import SystemSpec
from mosim.training.checkpoint import CheckpointError, load_checkpoint
from mosim.training.trainer import resolve_device


class Simulator:
    """A learned simulator: batched :meth:`step` and :meth:`rollout` on raw MuJoCo states.

    Inputs may be numpy arrays (outputs are then float64 numpy arrays, computed without gradients) or
    torch tensors (outputs are tensors of the model's dtype and device, differentiable). Leading batch
    dimensions are free: ``qpos (..., nq)``, ``qvel (..., nv)``, ``action (..., nu)``.
    """

    def __init__(self, model: DynamicsModel, checkpoint: dict[str, Any] | None = None) -> None:
        self.model = model.eval()
        self.spec: SystemSpec = model.spec
        self.info = {k: v for k, v in (checkpoint or {}).items() if k not in ("model_state", "train_state")}

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def dt(self) -> float:
        return self.spec.dt

    def to(self, device: str | torch.device) -> Simulator:
        self.model.to(resolve_device(str(device)))
        return self

    def compile(self, part: str = "auto", **options: Any) -> Simulator:
        """Compile the model's step with :func:`torch.compile` for faster prediction (results/model_speed.md). The
        first call at each new batch shape compiles (tens of seconds on a CPU); later calls reuse it; ``dynamic=True``
        makes the batch size symbolic, one compilation for all. Gradients still flow. ``options`` go to
        :func:`torch.compile`, its ``options={...}`` on top of mosim's inductor settings
        (:data:`mosim.integrators.INDUCTOR_OPTIONS`). Returns self.

        ``part`` says what becomes a graph (:data:`mosim.integrators.COMPILE_PARTS`):

        - ``"step"``: the whole step, one graph (on a 2-core CPU 1.2x to 2.3x the eager step at batch 256 to 4096
          and 3x to 4x at batch 1, on a GPU 1.7x to 2.9x). A constraint solve in it makes rows for every candidate
          contact and runs every Newton iteration, a graph of fixed shapes;
        - ``"forces"``: the networks' acceleration with the mechanics the model computes (the kinematics, ``M(q)``,
          the bias forces), a graph of fixed shapes, while the constraint solve runs eager as it does uncompiled
          (rows for the contacts that touch, each state's iterations stopped once it converged);
        - ``"auto"`` (the default): for a model on a CPU that solves its contacts, the whole step's graph for batches
          of up to :data:`~mosim.integrators.SMALL_BATCH` states and the forces' for wider ones, each compiled at its
          first use: at batch 1 the whole step's graph ran 2x the forces' on cheetah-run and 1.5x on the Go2, at
          batch 4096 the forces' 1.9x the whole step's on cheetah-run (results/model_speed.md), where the whole
          step's graph ran slower than the eager step. ``"step"`` otherwise: on a GPU the rows and iterations a fixed
          graph adds cost little in a wide batch, while each eager iteration's test for convergence waits for the
          device (not measured there)."""
        from mosim.integrators import compile_model

        compile_model(self.model, part, **options)
        return self

    def set_hidden_dtype(self, name: str) -> Simulator:
        """Run the networks' hidden layers (their residual blocks, most of a step's arithmetic) in the precision
        ``name``: ``bfloat16`` or ``float16`` (under :func:`torch.autocast`), or ``float32`` (the default) back.

        The state, its integration, the networks' input and output layers and the skip connections stay in
        float32, so the error a step adds is that of rounding the blocks' inputs and outputs (about 0.4% of
        each in bfloat16). On CPUs with AMX or AVX-512 BF16, and on GPUs, the batched rollout runs faster
        (compiled, 1.2x to 1.4x at batch 4096 on a 2-core Xeon, but slower at batch 256; the accuracy cost per
        system is measured in results/precision.md): worth it where the model's own error is far above the
        rounding (cheetah-run, the legged robots), not where it is near it (acrobot, 6.7e-5 at 100 steps, 2.4x
        worse). Call before :meth:`compile`, or compile again after. Returns self."""
        from mosim.models.networks import HIDDEN_DTYPES, set_hidden_dtype

        dtype = HIDDEN_DTYPES.get(name)
        if dtype is not None and self.device.type == "cpu" and not _cpu_supports(dtype):
            warnings.warn(f"this CPU has no native {name} matrix products: hidden_dtype={name!r} will run slower "
                          "than float32", stacklevel=2)
        if set_hidden_dtype(self.model, name) == 0 and dtype is not None:
            raise InvalidInputError(f"the model ({type(self.model).__name__}) has no residual blocks to run in "
                                    f"{name}; only float32 applies")
        return self

    @property
    def hidden_dtype(self) -> str:
        """The precision the networks' residual blocks run in (:meth:`set_hidden_dtype`)."""
        from mosim.models.networks import hidden_dtype_of

        return hidden_dtype_of(self.model)

    def step(self, qpos: Any, qvel: Any, action: Any) -> tuple[Any, Any]:
        """One model step of ``dt`` seconds: ``(qpos, qvel, action) -> (qpos1, qvel1)``."""
        return self._call(self.model.step, qpos, qvel, action)

    @property
    def needs_warmup(self) -> bool:
        """Whether the model builds a latent state from true steps before the start (the RSSM)."""
        return bool(getattr(self.model, "needs_warmup", False))

    def rollout(self, qpos0: Any, qvel0: Any, actions: Any,
                warmup: tuple[Any, Any, Any] | None = None) -> tuple[Any, Any]:
        """Open-loop prediction: ``actions (..., T, nu)`` -> ``qpos (..., T+1, nq)``, ``qvel (..., T+1, nv)``.

        ``warmup=(qpos (..., W, nq), qvel (..., W, nv), actions (..., W, nu))``: true steps before the start,
        for models that use them (:attr:`needs_warmup`); ignored by the others.
        """
        if warmup is not None and self.needs_warmup:
            return self._call(lambda q, v, a, *w: self.model.rollout(q, v, a, warmup=tuple(w)),
                              qpos0, qvel0, actions, *warmup)
        return self._call(self.model.rollout, qpos0, qvel0, actions)

    def _call(self, fn: Any, *args: Any) -> tuple[Any, Any]:
        if any(isinstance(a, torch.Tensor) for a in args):
            return fn(*args)
        with torch.no_grad():
            q, v = fn(*args)  # the model converts arrays and lists, and names what it cannot
        return q.cpu().double().numpy(), v.cpu().double().numpy()

    def __repr__(self) -> str:
        n = sum(p.numel() for p in self.model.parameters())
        return f"Simulator({self.spec.system_id!r}, {self.info.get('stage_name', '?')}, {n:,} parameters, device={self.device})"


def _pretrained_or_path(path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    from mosim import pretrained

    if isinstance(path, str) and not os.path.exists(path) and os.sep not in path and not path.endswith(".pt"):
        found = pretrained.resolve(path)
        if found is None:
            raise CheckpointError(f"{path}: no such checkpoint file and no pretrained model of that name "
                                  f"(pretrained: {', '.join(pretrained.available()) or 'none'}); train one with "
                                  "`mosim train` and pass its best.pt")
        return found
    return path


def load(path: str | os.PathLike[str], device: str = "auto", system: str | SystemSpec | None = None,
         compile: bool = False, hidden_dtype: str = "float32") -> Simulator:
    """Load a trained simulator from a checkpoint (``best.pt``), or a pretrained one by name
    (``mosim.load("cheetah-run")``, see :mod:`mosim.pretrained`); no dataset needed.

    :param device: ``cpu``, ``cuda`` or ``auto``
    :param system: if given, a system id or spec the checkpoint must be of
    :param compile: compile the model's step for speed (:meth:`Simulator.compile`)
    :param hidden_dtype: ``bfloat16`` or ``float16`` runs the networks' hidden layers in that precision, for
        speed at a small cost in accuracy (:meth:`Simulator.set_hidden_dtype`)
    :raises CheckpointError: the file is missing (and no pretrained model has that name), corrupt, or of
        another system
    """
    path = _pretrained_or_path(path)
    ckpt = load_checkpoint(path)
    spec = SystemSpec.from_json(ckpt["spec"])
    if system is not None:
        want = system if isinstance(system, str) else system.system_id
        problems = [f"system {spec.system_id!r} vs {want!r}"] if spec.system_id != want else []
        if isinstance(system, SystemSpec):
            problems += spec.mismatches(system)
        if problems:
            raise CheckpointError(f"{path}: checkpoint is of another system ({'; '.join(problems)}). "
                                  f"Load a checkpoint trained on {want!r}")
    model = build_model(spec, ModelConfig.from_checkpoint_json(ckpt["model_config"]))
    try:
        model.load_state_dict(ckpt["model_state"])
    except RuntimeError as e:
        raise CheckpointError(f"{path}: the stored weights do not fit the stored model config ({e})") from None
    if hasattr(model, "active_correctors") and "active_correctors" in ckpt:
        try:
            model.active_correctors = ckpt["active_correctors"]
        except AttributeError:  # models without correctors
            pass
    sim = Simulator(model.to(resolve_device(device)), ckpt).set_hidden_dtype(hidden_dtype)
    return sim.compile() if compile else sim


def _cpu_supports(dtype: torch.dtype) -> bool:
    """Whether oneDNN has native matrix products of ``dtype`` on this CPU."""
    check = {torch.bfloat16: "_is_mkldnn_bf16_supported", torch.float16: "_is_mkldnn_fp16_supported"}[dtype]
    try:
        return bool(getattr(torch.ops.mkldnn, check)())
    except (AttributeError, RuntimeError):
        return False
