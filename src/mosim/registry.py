"""Lookup by name from plain dicts, with errors that list the valid choices."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TypeVar

from mosim.errors import UnknownNameError

T = TypeVar("T")


def lookup(table: dict[str, T], name: str, kind: str, extra_choices: Iterable[str] = ()) -> T:
    """``table[name]``, or an :class:`UnknownNameError` naming the close matches and all choices."""
    if name in table:
        return table[name]
    raise unknown_name(name, kind, list(table) + list(extra_choices))


def unknown_name(name: str, kind: str, choices: list[str]) -> UnknownNameError:
    close = difflib.get_close_matches(name, choices, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(sorted(choices)[:40]) + (" ..." if len(choices) > 40 else "")
    return UnknownNameError(f"unknown {kind} {name!r}.{hint} Valid choices: {shown}")
