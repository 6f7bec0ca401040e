"""The experiment being edited: its spec, undo stack, data set, last result and file.

:class:`Session` holds no widgets.  Editors propose a new spec part
(:meth:`Session.propose`); the session validates it, loads the data when the data recipe
changes (a data set that cannot be loaded is refused with the reason and the previous spec
kept), and pushes a :class:`~workbench.ui.commands.SpecCommand`.  Applying a command
replaces the spec and announces it (``spec_changed``); a command made during a run also
carries the live changes the trainer is to pick up (``live_changed``).  What may change
during a run is decided by :attr:`Session.lock`, set by the window from its run controller.

Data sets are cached by recipe (:data:`MAX_CACHED_DATASETS`); the CSV parser caches parsed
files by content, so changing the split of a large CSV does not parse it again.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from workbench import spec as specmod
from workbench.data import load_dataset
from workbench.spec import ExperimentSpec, RunResult

from .commands import MAX_UNDO_STEPS, SpecCommand

#: loaded data sets kept, by recipe and folder
MAX_CACHED_DATASETS = 6


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Session(QObject):
    """The experiment being edited (see the module docstring).

    Signals: ``spec_changed(new, old)``, ``live_changed(dict)`` (live settings to apply
    to the running trainer), ``data_changed()`` (the data set or its error), and
    ``state_changed()`` (dirty state, path, result: the title and the actions follow)."""

    spec_changed = Signal(object, object)
    live_changed = Signal(dict)
    data_changed = Signal()
    state_changed = Signal()

    def __init__(self, spec: Optional[ExperimentSpec] = None, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(MAX_UNDO_STEPS)
        self.undo_stack.cleanChanged.connect(self._stack_changed)
        self.undo_stack.indexChanged.connect(self._stack_changed)
        self._spec = spec if spec is not None else ExperimentSpec()
        self._path: Optional[Path] = None
        self._origin: Optional[Path] = None
        self._result: Optional[RunResult] = None
        self._result_spec: Optional[ExperimentSpec] = None  # the settings that produced it
        self._result_dirty = False
        self._dataset = None
        self._data_error = ""
        self._cache: OrderedDict = OrderedDict()
        #: ``lock(old, new)``: why ``new`` may not replace ``old`` now ('' when it may);
        #: the window answers for its run controller (only live settings during a run)
        self.lock: Callable[[ExperimentSpec, ExperimentSpec], str] = lambda old, new: ""
        #: whether a run is training (its result follows live changes)
        self.running: Callable[[], bool] = lambda: False
        #: ``loader(data_spec, base_dir)`` loads a data set (the window's shows its progress)
        self.loader: Callable = load_dataset
        self.reload_data()

    def _stack_changed(self, *_args) -> None:
        try:
            self.state_changed.emit()
        except RuntimeError:  # the stack is destroyed with the session
            pass

    # -- what it holds ---------------------------------------------------------------
    @property
    def spec(self) -> ExperimentSpec:
        return self._spec

    @property
    def path(self) -> Optional[Path]:
        return self._path

    @property
    def dataset(self):
        return self._dataset

    @property
    def data_error(self) -> str:
        return self._data_error

    @property
    def result(self) -> Optional[RunResult]:
        return self._result

    @property
    def result_is_current(self) -> bool:
        """The last results came from the current settings (Save writes only those)."""
        return self._result is not None and self._result_spec == self._spec

    def is_dirty(self) -> bool:
        return (not self.undo_stack.isClean()) or self._result_dirty

    def display_name(self) -> str:
        return self._path.name if self._path is not None else self._spec.name

    def base_dir(self) -> Path:
        """The folder relative data paths are read from: the file's (or the one it was
        opened from), or the current one."""
        if self._path is not None:
            return self._path.parent
        return self._origin if self._origin is not None else Path.cwd()

    # -- edits -------------------------------------------------------------------------
    def propose(self, section: str, value: Any) -> str:
        """An editor's new ``section``: validated, its data loaded if it is the data recipe,
        then pushed as an undo step.  Returns '' when accepted (or unchanged), else why not."""
        old = self._spec
        if getattr(old, section) == value:
            return ""
        try:
            new = specmod.replace(old, "", **{section: value})
        except specmod.SpecError as exc:
            return str(exc)
        return self.set_spec(new)

    def set_spec(self, new: ExperimentSpec, text: str | None = None) -> str:
        """Replace the whole spec through the undo stack (editors, scripts, tests).  Returns
        '' when accepted, else why not: a setting locked during a run, or data that do
        not load."""
        old = self._spec
        if new == old:
            return ""
        reason = self.lock(old, new)
        if reason:
            return reason
        if new.data != old.data:
            try:
                self.dataset_for(new.data)
            except Exception as exc:  # DataError (and friends): keep the previous spec
                return f"data: {first_line(exc)}"
        self.undo_stack.push(SpecCommand(self._apply, old, new, text))
        return ""

    def _apply(self, new: ExperimentSpec, live: Optional[dict]) -> None:
        """Make ``new`` current (the undo commands call this)."""
        old = self._spec
        self._spec = new
        if new.data != old.data or self._dataset is None:
            self.reload_data()
        running = live and self.running()
        if running:
            self._result_spec = new  # the run goes on with these settings
        self.spec_changed.emit(new, old)
        if running:
            self.live_changed.emit(live)
        self.state_changed.emit()

    def can_step(self, direction: int) -> bool:
        """Whether undo (-1) or redo (+1) may run now (during a run: only live changes)."""
        stack = self.undo_stack
        index = stack.index() - 1 if direction < 0 else stack.index()
        if not 0 <= index < stack.count():
            return False
        cmd = stack.command(index)
        old, new = (cmd.new, cmd.old) if direction < 0 else (cmd.old, cmd.new)
        return self.lock(old, new) == ""

    def undo(self) -> None:
        if self.can_step(-1):
            self.undo_stack.undo()

    def redo(self) -> None:
        if self.can_step(+1):
            self.undo_stack.redo()

    # -- data ------------------------------------------------------------------------------
    def dataset_for(self, data_spec):
        """The loaded data set of ``data_spec`` (cached); raises DataError."""
        key = (data_spec, str(self.base_dir()))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        ds = self.loader(data_spec, self.base_dir())
        self._cache[key] = ds
        while len(self._cache) > MAX_CACHED_DATASETS:
            self._cache.popitem(last=False)
        return ds

    def remember(self, data_spec, base_dir: Path, dataset) -> None:
        """Keep a data set loaded elsewhere (a file's, before it is opened)."""
        self._cache[(data_spec, str(base_dir))] = dataset
        while len(self._cache) > MAX_CACHED_DATASETS:
            self._cache.popitem(last=False)

    def reload_data(self) -> None:
        """Load the current spec's data set (or remember why it cannot be loaded)."""
        try:
            self._dataset = self.dataset_for(self._spec.data)
            self._data_error = ""
        except Exception as exc:  # DataError and friends: shown, never raised
            self._dataset = None
            self._data_error = f"data: {first_line(exc)}"
        self.data_changed.emit()

    # -- files and results -------------------------------------------------------------------
    def replace(self, spec: ExperimentSpec, result: Optional[RunResult], path: Optional[Path],
                origin: Optional[Path] = None) -> None:
        """A new experiment (New, Open): forget the undo history.  ``path`` is where Save
        writes (None: untitled); ``origin`` the folder relative data paths are read from
        when that differs (an example opened as an untitled copy)."""
        self._path = path
        self._origin = origin
        self.undo_stack.clear()
        old = self._spec
        self._spec = spec
        self._result = result
        self._result_spec = spec
        self._result_dirty = False
        self.reload_data()
        self.undo_stack.setClean()
        self.spec_changed.emit(spec, old)
        self.state_changed.emit()

    def set_result(self, result: Optional[RunResult], spec: Optional[ExperimentSpec] = None,
                   dirty: bool = True) -> None:
        """The result shown (None: forget it) and ``spec``, the settings that produce it
        (None: those already noted, e.g. when a run started and followed live changes)."""
        had = self._result is not None
        self._result = result
        if spec is not None:
            self._result_spec = spec
        if result is not None or had:
            self._result_dirty = dirty
        self.state_changed.emit()

    def mark_changed(self) -> None:
        """The experiment differs from its file (e.g. its data file was pointed to anew)."""
        self._result_dirty = True
        self.state_changed.emit()

    def saved(self, path: Path) -> None:
        """The experiment was written to ``path``."""
        self._path = path
        self.undo_stack.setClean()
        self._result_dirty = False
        self.state_changed.emit()
