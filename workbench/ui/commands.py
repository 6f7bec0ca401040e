"""Undo commands: every edit of the experiment replaces the whole frozen spec.

A :class:`SpecCommand` holds the spec before and after one edit and a callable that
makes a spec current (the main window's ``_apply_spec``).  ``redo`` applies the new
spec (Qt calls it once when the command is pushed), ``undo`` the old one.  Because
specs are immutable values, undo and redo are exact.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QUndoCommand

# Fields the trainer accepts while a run is live (``run.live.set``), by spec section.
LIVE_FIELDS = {
    "optimizer": ("lr",),
    "regularization": ("l1", "l2", "weight_decay"),
}

SECTION_TITLES = {
    "name": "name",
    "description": "description",
    "data": "data",
    "architecture": "architecture",
    "optimizer": "optimizer",
    "regularization": "regularization",
    "schedule": "schedule",
    "early_stopping": "early stopping",
    "training": "training",
}


def changed_fields(old, new) -> dict[str, tuple[str, ...]]:
    """``{section: (field, ...)}`` of what differs between two ExperimentSpecs."""
    out: dict[str, tuple[str, ...]] = {}
    for section in SECTION_TITLES:
        a, b = getattr(old, section), getattr(new, section)
        if a == b:
            continue
        if hasattr(a, "__dataclass_fields__"):
            out[section] = tuple(f for f in a.__dataclass_fields__ if getattr(a, f) != getattr(b, f))
        else:
            out[section] = ()
    return out


def live_changes(old, new) -> dict[str, float] | None:
    """The ``run.live.set`` keywords that turn ``old`` into ``new``, or None if the
    difference touches anything that may not change mid-run."""
    out: dict[str, float] = {}
    for section, fields in changed_fields(old, new).items():
        allowed = LIVE_FIELDS.get(section)
        if allowed is None or not fields or any(f not in allowed for f in fields):
            return None
        part = getattr(new, section)
        for f in fields:
            out[f] = float(getattr(part, f))
    return out


def describe(old, new) -> str:
    """A short undo text, e.g. ``Change optimizer.lr`` or ``Change architecture``."""
    diff = changed_fields(old, new)
    if not diff:
        return "Change experiment"
    parts = []
    for section, fields in diff.items():
        if fields and len(fields) <= 2:
            parts.extend(f"{section}.{f}" for f in fields)
        else:
            parts.append(SECTION_TITLES[section])
    return "Change " + ", ".join(parts)


class SpecCommand(QUndoCommand):
    """Replace the current ExperimentSpec ``old`` by ``new`` (and back on undo)."""

    def __init__(self, apply: Callable[[object], None], old, new, text: str | None = None):
        super().__init__(text or describe(old, new))
        self._apply = apply
        self.old = old
        self.new = new
        self.live = live_changes(old, new)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)
