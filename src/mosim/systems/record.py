"""What the plain-data records of a MuJoCo model (:class:`~mosim.systems.actuation.Actuation`,
:class:`~mosim.systems.limits.LimitConstraints`, :class:`~mosim.systems.contacts.FloorContacts`,
:class:`~mosim.systems.inertia.BodyInertias`) share: their dict as the dataclass's fields, and JSON of that dict.
Each record reads its own dict back (``from_dict``, with a clear error for what is not one)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Self


class JsonRecord:
    """``to_dict`` (the dataclass's fields), ``to_json`` and ``from_json`` for a frozen dataclass that defines
    ``from_dict``."""

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
