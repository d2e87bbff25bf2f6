"""What the plain-data records of a MuJoCo model (:class:`~mosim.systems.actuation.Actuation`,
:class:`~mosim.systems.limits.LimitConstraints`, :class:`~mosim.systems.contacts.FloorContacts`,
:class:`~mosim.systems.inertia.BodyInertias`) share: their dict as the dataclass's fields, JSON of that dict, and a check that their per-entry fields agree in
length.
Each record reads its own dict back (``from_dict``, with a clear error for what is not one)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Self


class JsonRecord:
    """``to_dict`` (the dataclass's fields), ``to_json`` and ``from_json`` for a frozen dataclass that defines
    ``from_dict``, and the check that its per-entry fields have one entry each."""

    def check_lengths(self, n: int, names: tuple[str, ...]) -> None:
        """A clear error unless each field of ``names`` has ``n`` entries."""
        from mosim.errors import InvalidInputError

        for name in names:
            if len(getattr(self, name)) != n:
                raise InvalidInputError(
                    f"{type(self).__name__}.{name} has {len(getattr(self, name))} entries, expected {n}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.from_dict(json.loads(text))


__all__ = ["JsonRecord"]
