"""mosim: the neural motion simulator.

Learn a robot's MuJoCo dynamics from recorded trajectories and use the learned model as a
simulator. Public API::

    import mosim
    system = mosim.make_system("cheetah-run")
    path = mosim.collect(mosim.CollectConfig(system="cheetah-run", out="data/cheetah.h5", episodes=10))
    data = mosim.load_dataset(path)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mosim")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

from mosim.data import CollectConfig, Dataset, collect, load_dataset  # noqa: E402
from mosim.errors import DatasetError, InvalidInputError, MosimError, UnknownNameError  # noqa: E402
from mosim.systems import System, list_systems, make_system  # noqa: E402


def load(path, device="auto", system=None, compile=False, hidden_dtype="float32"):  # noqa: ANN001, ANN201
    """Load a trained simulator from a checkpoint: see :func:`mosim.loading.load`."""
    from mosim.loading import load as _load

    return _load(path, device=device, system=system, compile=compile, hidden_dtype=hidden_dtype)


def load_ensemble(paths, device="auto", system=None, combine="trajectories", compile=False,  # noqa: ANN001, ANN201
                  hidden_dtype="float32"):
    """Load several checkpoints of one system as one simulator: see :func:`mosim.ensemble.load_ensemble`."""
    from mosim.ensemble import load_ensemble as _load_ensemble

    return _load_ensemble(paths, device=device, system=system, combine=combine, compile=compile,
                          hidden_dtype=hidden_dtype)


__all__ = [
    "CollectConfig",
    "Dataset",
    "DatasetError",
    "InvalidInputError",
    "MosimError",
    "System",
    "UnknownNameError",
    "__version__",
    "collect",
    "list_systems",
    "load",
    "load_dataset",
    "load_ensemble",
    "make_system",
]
