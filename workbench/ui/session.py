"""The experiment being edited: its spec, undo stack, data set, runs and file.

:class:`Session` holds no widgets.  Editors propose a new spec part
(:meth:`Session.propose`); the session validates it, loads the data when the data recipe
changes (a data set that cannot be loaded is refused with the reason and the previous spec
kept), applies it and records a :class:`~workbench.ui.commands.SpecCommand` for undo.
Applying replaces the spec and announces it (``spec_changed``); during a run (as
:attr:`Session.running` says) only live settings may change, and they go to the trainer
first (``live_changed``).

Every run is kept in :attr:`Session.runs` (a :class:`~workbench.runs.RunList`): Run adds
one (or a group of seeds), made from the run shown before (:attr:`Session.current_run`),
so the Runs dock can say what differs.  Deleting runs is an undo step too.

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
from workbench.limits import MAX_CACHED_DATASETS, MAX_RUNS, MAX_UNDO_STEPS
from workbench.runs import Run, RunList, history_reserve, run_name, runs_numbers
from workbench.snapshots import SnapshotStore
from workbench.spec import ExperimentSpec, RunResult, ViewHints

from .commands import DeleteRunsCommand, RunFieldsCommand, SpecCommand, changed_fields, live_changes

#: why an edit is refused during a run (only live settings may change then)
LOCKED = "This setting is locked while training — Stop first."


def _fields_text(changed: list, fields: dict) -> str:
    """An undo step's name ('rename run 1', 'pin 3 runs', 'unpin run 2'), made before the
    change (the names are the old ones)."""
    what = changed[0].name if len(changed) == 1 else f"{len(changed)} runs"
    return f"rename {what}" if "name" in fields else f"{'pin' if fields.get('pinned') else 'unpin'} {what}"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Session(QObject):
    """The experiment being edited (see the module docstring).

    Signals: ``spec_changed(new, old)``, ``live_changed(dict)`` (live settings to apply
    to the running trainer), ``refused(section, reason)`` (an edit not taken; section ''
    for a whole spec), ``data_changed()`` (the data set or its error),
    ``state_changed()`` (dirty state, path, result: the title and the actions follow),
    ``runs_changed()`` (runs added, removed, renamed, finished, shown or hidden) and
    ``current_changed()`` (another run is shown)."""

    spec_changed = Signal(object, object)
    live_changed = Signal(dict)
    refused = Signal(str, str)
    data_changed = Signal()
    state_changed = Signal()
    runs_changed = Signal()
    current_changed = Signal()

    def __init__(self, spec: Optional[ExperimentSpec] = None, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(MAX_UNDO_STEPS)
        self.undo_stack.cleanChanged.connect(self._stack_changed)
        self.undo_stack.indexChanged.connect(self._stack_changed)
        self._spec = spec if spec is not None else ExperimentSpec()
        self._path: Optional[Path] = None
        self._origin: Optional[Path] = None
        self.runs = RunList()
        self._current: Optional[int] = None  # the id of the run shown
        self._runs_dirty = False
        #: how the experiment's file suggests watching it (its pace)
        self.view = ViewHints()
        #: the runs' weights per epoch (the timeline), within one memory budget
        self.snapshots = SnapshotStore()
        #: the file's sweep (a workbench.sweep.spec.SweepSpec) or None
        self.sweep = None
        self._dataset = None
        self._data_error = ""
        self._cache: OrderedDict = OrderedDict()
        #: whether a run is training: only live settings may change, and they reach it
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
    def current_run(self) -> Optional[Run]:
        """The run shown on the curves (None: none)."""
        return self.runs.get(self._current)

    @property
    def result(self) -> Optional[RunResult]:
        """The shown run's result (None while it trains, or when no run is shown)."""
        run = self.current_run
        return run.result if run is not None else None

    @property
    def result_is_current(self) -> bool:
        """The shown result came from the settings in the docks (else it is marked stale)."""
        run = self.current_run
        return run is not None and run.result is not None and run.spec == self._spec

    def is_dirty(self) -> bool:
        return (not self.undo_stack.isClean()) or self._runs_dirty

    def display_name(self) -> str:
        return self._path.name if self._path is not None else self._spec.name

    def base_dir(self) -> Path:
        """The folder relative data paths are read from: the file's (or the one it was
        opened from), or the current one."""
        if self._path is not None:
            return self._path.parent
        return self._origin if self._origin is not None else Path.cwd()

    # -- edits -------------------------------------------------------------------------
    def propose(self, section: str, value: Any, text: str | None = None) -> str:
        """An edit: the new ``section`` of the spec (an editor's), or with ``section`` ''
        a whole new ExperimentSpec ``value`` (scripts, Duplicate and change, a sweep
        trial's settings).  Returns '' when accepted (or unchanged), else why not; a
        refusal is also announced (``refused``).

        The one path of an edit: the new spec is validated once (``spec.replace``), its
        difference to the current one computed once (:func:`commands.changed_fields`),
        and during a run only live settings may change (:func:`commands.live_changes`;
        else :data:`LOCKED`); a new data recipe must load.  Then it is applied
        (:meth:`_apply`: the live changes reach the run first) and recorded as an undo
        step that already happened."""
        old = self._spec
        if section:
            if getattr(old, section) == value:
                return ""
            try:
                new = specmod.replace(old, "", **{section: value})
            except specmod.SpecError as exc:
                return self._refuse(section, str(exc))
        else:
            new = value
        if new == old:
            return ""
        diff = changed_fields(old, new)
        live = live_changes(old, new, diff)
        if live is None and self.running():
            return self._refuse(section, LOCKED)
        if new.data != old.data:
            try:
                self.dataset_for(new.data)
            except Exception as exc:  # DataError (and friends): keep the previous spec
                return self._refuse(section, f"data: {first_line(exc)}")
        self._apply(new, live)
        self.undo_stack.push(SpecCommand(self._apply, old, new, diff, live, text, applied=True))
        return ""

    def set_spec(self, new: ExperimentSpec, text: str | None = None) -> str:
        """Replace the whole spec (:meth:`propose` with section '')."""
        return self.propose("", new, text)

    def _refuse(self, section: str, reason: str) -> str:
        self.refused.emit(section, reason)
        return reason

    def _apply(self, new: ExperimentSpec, live: Optional[dict]) -> None:
        """Make ``new`` current; during a run its ``live`` changes go to the trainer
        (``live_changed``) before anything is redrawn (propose and the undo commands
        call this)."""
        old = self._spec
        running = live and self.running()
        if running:  # the runs training go on with these settings
            self.live_changed.emit(live)
            for run in self.runs:
                if run.status == "running":
                    run.spec = specmod.replace(run.spec, "", optimizer=new.optimizer,
                                               regularization=new.regularization)
        self._spec = new
        if new.data != old.data or self._dataset is None:
            self.reload_data()
        self.spec_changed.emit(new, old)
        self.state_changed.emit()

    def can_step(self, direction: int) -> bool:
        """Whether undo (-1) or redo (+1) may run now (during a run: only live changes)."""
        stack = self.undo_stack
        index = stack.index() - 1 if direction < 0 else stack.index()
        if not 0 <= index < stack.count():
            return False
        cmd = stack.command(index)
        if isinstance(cmd, RunFieldsCommand):  # a rename or a pin: any time
            return True
        if isinstance(cmd, DeleteRunsCommand):  # deleting runs: never the ones training
            if direction < 0:  # runs put back must leave what a file can hold (runs trained since)
                back = cmd.removed_runs()
                return not self.running() and not self.runs.room_after([], len(back), runs_numbers(back))
            return not self.running()
        return not self.running() or (cmd.live_back if direction < 0 else cmd.live) is not None

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

    # -- runs -----------------------------------------------------------------------------------
    def begin_runs(self, spec: ExperimentSpec, seeds=None) -> tuple[list[Run], list[str]]:
        """New runs of ``spec`` that start training now: one, or one per seed of ``seeds``
        (a group), made from the run shown so far; the first is shown.  The session keeps
        what a file can hold (:mod:`workbench.runs`): at most MAX_RUNS runs whose histories
        hold at most MAX_FILE_HISTORY numbers, counting what the new runs may hold
        (:func:`~workbench.runs.history_reserve`); the oldest finished unpinned runs
        (never the one shown) make room.  Returns the new runs and the names of those
        removed; ValueError, saying why, when pinned, training or shown runs leave no room."""
        n = len(seeds) if seeds else 1
        if n > MAX_RUNS:
            raise ValueError(f"at most {MAX_RUNS} runs at once")
        task = getattr(self._dataset, "task", None) if spec.data == self._spec.data else None
        numbers = n * history_reserve(spec, task)
        evicted = self.runs.evictable(n, keep=[self._current], numbers=numbers, task=task)
        reason = self.runs.room_after(evicted, n, numbers, task)
        if reason:
            raise ValueError(reason)
        self.runs.remove([r.id for r in evicted])
        parent = self._current if self.runs.get(self._current) is not None else None
        new = self.runs.add_group(spec, seeds, parent=parent) if seeds else [self.runs.add(spec, parent=parent)]
        for run in new:
            run.status = "running"
        self._current = new[0].id
        self._changed_runs(current=True, dirty=bool(evicted))  # a run is work to keep once it has a result
        return new, [r.name for r in evicted]

    def add_saved(self, saved) -> list[Run]:
        """Finished runs from elsewhere (a sweep's trials) join the list (ValueError when
        it is full)."""
        new = self.runs.add_saved(saved)
        self._changed_runs()
        return new

    def finish_runs(self, ended) -> None:
        """Runs ended: ``(run id, result)`` pairs (result None: it failed before recording
        anything), announced once."""
        for run_id, result in ended:
            run = self.runs.get(run_id)
            if run is not None:  # (not deleted meanwhile)
                run.result = result
                run.status = result.status if result is not None else "failed"
        self._changed_runs()

    def select_run(self, run_id: Optional[int]) -> None:
        """Show another run (None: none) on the curves."""
        if run_id == self._current:
            return
        self._current = run_id if self.runs.get(run_id) is not None else None
        self.current_changed.emit()
        self.state_changed.emit()

    def update_run(self, run_id: int, **fields) -> None:
        """Rename, show/hide or pin a run (see :meth:`update_runs`)."""
        self.update_runs([run_id], **fields)

    def update_runs(self, run_ids, **fields) -> None:
        """Rename, show/hide or pin runs (``name``, ``visible``, ``pinned``, ``color``; a
        name is one line: see :func:`run_name`).  A rename or a pin is one undo step for
        all of them; showing, hiding and colours are how they are viewed, not undo steps."""
        for key in fields:
            if key not in ("name", "visible", "pinned", "color"):
                raise ValueError(f"{key}: not a field the user changes")
        runs = [r for r in (self.runs.get(i) for i in run_ids) if r is not None]
        changes = {}
        for run in runs:
            for key, value in fields.items():
                if key == "name":
                    value = run_name(value) or run.name
                if key in ("name", "pinned"):
                    if getattr(run, key) != value:
                        changes.setdefault(run.id, {})[key] = (getattr(run, key), value)
                else:
                    setattr(run, key, value)
        if changes:
            text = _fields_text([r for r in runs if r.id in changes], fields)
            self.undo_stack.push(RunFieldsCommand(self.runs, changes, self._changed_runs, text))
        elif runs:
            self._changed_runs()

    def delete_runs(self, run_ids) -> str:
        """Delete runs (an undo step); '' done, else why not (training runs stay)."""
        ids = [i for i in run_ids if self.runs.get(i) is not None]
        if any(not self.runs.get(i).done for i in ids):
            return "a run that is training cannot be deleted; stop it first"
        if ids:
            self.undo_stack.push(DeleteRunsCommand(self.runs, ids, self._after_delete))
        return ""

    def _after_delete(self) -> None:
        if self.runs.get(self._current) is None:
            self._current = self.runs[-1].id if len(self.runs) else None
            self.current_changed.emit()
        self._changed_runs()

    def branch_from(self, run_id: int) -> str:
        """Duplicate and change: the run's settings go into the docks (an undo step) and
        it is shown, so the next run is made from it (same seed: same initial weights and
        batch order wherever the change allows)."""
        run = self.runs.get(run_id)
        if run is None:
            return "no such run"
        reason = self.set_spec(run.spec, "settings of " + run.name)
        if not reason:
            self.select_run(run_id)
        return reason

    def _changed_runs(self, current: bool = False, dirty: bool = True) -> None:
        self._runs_dirty = self._runs_dirty or dirty
        self.runs_changed.emit()
        if current:
            self.current_changed.emit()
        self.state_changed.emit()

    # -- files -------------------------------------------------------------------------------------
    def replace(self, spec: ExperimentSpec, runs: Optional[RunList], path: Optional[Path],
                origin: Optional[Path] = None, current: Optional[int] = None,
                view: Optional[ViewHints] = None, sweep=None) -> None:
        """A new experiment (New, Open): forget the undo history.  ``path`` is where Save
        writes (None: untitled); ``origin`` the folder relative data paths are read from
        when that differs (an example opened as an untitled copy); ``current`` the index
        of the run shown."""
        self._path = path
        self._origin = origin
        self.undo_stack.clear()
        old = self._spec
        self._spec = spec
        self.runs = runs if runs is not None else RunList()
        self.snapshots = SnapshotStore()  # run ids start again
        self._current = self.runs[current].id if current is not None and 0 <= current < len(self.runs) else None
        self._runs_dirty = False
        self.view = view or ViewHints()
        self.sweep = sweep
        self.reload_data()
        self.undo_stack.setClean()
        self.spec_changed.emit(spec, old)
        self.runs_changed.emit()
        self.current_changed.emit()
        self.state_changed.emit()

    def saved_runs(self) -> tuple[tuple, Optional[int]]:
        """The runs as the file keeps them and the index of the shown one."""
        saved = self.runs.to_saved()
        current = next((i for i, r in enumerate(self.runs) if r.id == self._current), None)
        return saved, current

    def mark_changed(self) -> None:
        """The experiment differs from its file (e.g. its data file was pointed to anew)."""
        self._runs_dirty = True
        self.state_changed.emit()

    def saved(self, path: Path) -> None:
        """The experiment was written to ``path``."""
        self._path = path
        self.undo_stack.setClean()
        self._runs_dirty = False
        self.state_changed.emit()
