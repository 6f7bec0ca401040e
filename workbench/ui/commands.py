"""Undo commands: every edit of the experiment replaces the whole frozen spec.

A :class:`SpecCommand` holds the spec before and after one edit and a callable that makes
a spec current (the session's ``apply``).  ``redo`` applies the new spec, ``undo`` the old
one.  Because specs are immutable values, undo and redo are exact.  The difference between
the two specs is computed once, by the session when the edit is proposed: the command's
undo text and the live changes each direction makes during a run come from it.

Consecutive edits of one and the same field (dragging η up a decade, typing a seed digit
by digit, a long session of live edits) merge into one command, and the session bounds
the stack (:data:`MAX_UNDO_STEPS`), so a long session does not grow without limit.
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtGui import QUndoCommand

from workbench.limits import MAX_UNDO_STEPS  # noqa: F401  (undo steps kept: the session's QUndoStack limit)

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

#: QUndoCommand.id of commands that change exactly one field (they may merge)
_ONE_FIELD_ID = 1


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


def live_changes(old, new, diff: Optional[dict] = None) -> dict[str, float] | None:
    """The ``run.live.set`` keywords that turn ``old`` into ``new``, or None if the
    difference touches anything that may not change mid-run."""
    out: dict[str, float] = {}
    for section, fields in (changed_fields(old, new) if diff is None else diff).items():
        allowed = LIVE_FIELDS.get(section)
        if allowed is None or not fields or any(f not in allowed for f in fields):
            return None
        part = getattr(new, section)
        for f in fields:
            out[f] = float(getattr(part, f))
    return out


def describe(old, new, diff: Optional[dict] = None) -> str:
    """A short undo text, e.g. ``Change optimizer.lr`` or ``Change architecture``."""
    diff = changed_fields(old, new) if diff is None else diff
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
    """Replace the current ExperimentSpec ``old`` by ``new`` (and back on undo).

    ``apply(spec, live)`` makes ``spec`` current; ``diff`` is :func:`changed_fields` of
    the two and ``live`` the ``run.live.set`` keywords of the step (None when it touches
    a locked setting): both computed once by the caller, and the way back (``live_back``)
    from the same difference.  ``applied``: the edit is in effect already, so the first
    ``redo`` (QUndoStack.push calls it) does nothing."""

    def __init__(self, apply: Callable[[object, Optional[dict]], None], old, new, diff: dict,
                 live: Optional[dict], text: str | None = None, *, applied: bool = False):
        super().__init__(text or describe(old, new, diff))
        self._apply = apply
        self._applied = applied
        self.old = old
        self.new = new
        self._diff = diff
        self.live = live
        self.live_back = None if live is None else live_changes(new, old, diff)

    def field(self) -> Optional[tuple[str, str]]:
        """``(section, field)`` when exactly one field changes, else None."""
        items = [(section, f) for section, fields in self._diff.items() for f in fields]
        return items[0] if len(items) == 1 and len(self._diff) == 1 else None

    def id(self) -> int:  # noqa: A003 - the Qt name
        return _ONE_FIELD_ID if self.field() is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        """A following edit of the same one field merges into this command (the way
        back and the difference stay: it is still that one field)."""
        if not isinstance(other, SpecCommand) or other.field() != self.field() or other.old != self.new:
            return False
        self.new = other.new
        self.live = other.live
        if self.old == self.new:
            self.setObsolete(True)  # back where it started: nothing to undo
        return True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self._apply(self.new, self.live)

    def undo(self) -> None:
        self._apply(self.old, self.live_back)


class DeleteRunsCommand(QUndoCommand):
    """Delete runs from a :class:`~workbench.runs.RunList`; undo puts them back where
    they were.  ``changed()`` is called after each direction (the session announces it)."""

    def __init__(self, runs, run_ids, changed: Callable[[], None]):
        names = [r.name for r in runs if r.id in set(run_ids)]
        super().__init__(f"delete {names[0]}" if len(names) == 1 else f"delete {len(names)} runs")
        self._runs = runs
        self._ids = tuple(run_ids)
        self._changed = changed
        self._removed: list = []

    def removed_runs(self) -> list:
        """The runs an undo would put back."""
        return [run for _i, run in self._removed]

    def redo(self) -> None:
        self._removed = self._runs.remove(self._ids)
        self._changed()

    def undo(self) -> None:
        self._runs.restore(self._removed)
        self._removed = []
        self._changed()


class RunFieldsCommand(QUndoCommand):
    """Rename or pin runs of a :class:`~workbench.runs.RunList`: ``changes`` maps a run id
    to ``{field: (old, new)}``; undo puts the old values back.  A run deleted since is
    skipped (its delete's undo brings back the run as it was then).  ``changed()`` is
    called after each direction."""

    def __init__(self, runs, changes: dict, changed: Callable[[], None], text: str):
        super().__init__(text)
        self._runs = runs
        self._changes = changes
        self._changed = changed

    def _apply(self, which: int) -> None:
        for run_id, fields in self._changes.items():
            run = self._runs.get(run_id)
            if run is not None:
                for name, values in fields.items():
                    setattr(run, name, values[which])
        self._changed()

    def redo(self) -> None:
        self._apply(1)

    def undo(self) -> None:
        self._apply(0)
