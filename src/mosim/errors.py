"""The exceptions mosim raises. Each message names the thing at fault and, where there is one, the fix."""


class MosimError(Exception):
    """Base class of every error mosim raises on purpose."""


class InvalidInputError(MosimError, ValueError):
    """An argument has the wrong shape, contains NaN/inf or is out of range."""


class UnknownNameError(MosimError, KeyError):
    """A name looked up in a registry (system id, policy, preset, ...) does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DatasetError(MosimError):
    """A dataset file is missing, corrupt, inconsistent or for another system."""
