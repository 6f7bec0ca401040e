"""Files: New, Open, Save, Save As, export, recent files, drag and drop.

Everything that reads or writes an experiment file goes through :class:`FileController`:

* a path is opened only when it is a regular file (a FIFO or a device never is), from
  any door: Open, drag and drop, Recent files, the command line;
* an invalid file changes nothing and says why, naming the field;
* a bundled example opens as an *untitled copy* (Save asks where: the shipped file is
  never overwritten), and a file's description is shown when it opens;
* a file whose CSV data is missing says which path it looked for and lets the user
  point to the file;
* Save asks before replacing a read-only file, offers to leave the weights out when a
  network is too large for a file, writes every run with the settings it trained with, and
  says exactly what it wrote.

Dialogs are called through :mod:`workbench.ui.dialogs` (tests replace them there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QSettings, QTimer, QUrl
from PySide6.QtWidgets import QMenu, QWidget

from workbench import spec as specmod
from workbench.runs import RunList
from workbench.spec import ExperimentSpec

from . import dialogs
from .session import Session, first_line

MAX_RECENT = 8
#: the shipped examples: opened as untitled copies
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "examples"
#: a run that has trained this long counts as unsaved work: closing, New and Open ask
#: first (a shorter one is simply stopped, as closing a window mid-demo expects)
LIVE_WORK_SECONDS = 10.0
_EXPORT_FILTERS = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "csv": "CSV table (*.csv)"}


def is_example(path: Path) -> bool:
    """Whether ``path`` is one of the shipped examples."""
    try:
        return path.resolve().parent == EXAMPLES_DIR.resolve()
    except OSError:
        return False


def safe_stem(name: str) -> str:
    keep = "".join(c if (c.isalnum() or c in "-_ ") else "_" for c in name).strip().replace(" ", "_")
    return keep[:60] or "experiment"


class FileController:
    """The window's file operations (see the module docstring).

    ``window`` parents the dialogs; ``session`` holds the experiment; ``run`` is the run
    controller (a run in progress may be unsaved work); ``curves`` exports; ``status(text,
    ms)`` reports; ``loaded(spec, result, description)`` redraws after New/Open; ``commit``
    commits a value still being typed (returns why it cannot, or '')."""

    def __init__(self, window: QWidget, session: Session, run, curves, settings: QSettings,
                 status: Callable[[str, int], None], loaded: Callable, commit: Callable[[], str]):
        self.window = window
        self.session = session
        self.run = run
        self.curves = curves
        self.settings = settings
        self.status = status
        self.loaded = loaded
        self.commit = commit
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.setObjectName("recentMenu")
        self.rebuild_recent_menu()

    # -- New / Open ------------------------------------------------------------------------
    def new_experiment(self) -> bool:
        """New (Ctrl+N): the default experiment, after asking about unsaved changes."""
        if not self.maybe_discard():
            return False
        self.run.shutdown()
        self.session.replace(ExperimentSpec(), None, None)
        self.loaded(self.session.spec, "")
        self.status("New experiment", 4000)
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_discard():
            return False
        path = dialogs.get_open_path(self.window, str(self.recent_dir()))
        return self.open_path(path, ask=False) if path else False

    def open_path(self, path, *, ask: bool = True) -> bool:
        """Open an experiment file.  An invalid file shows a dialog naming the field and
        leaves the current experiment untouched."""
        from workbench.experiment_file import load

        path = Path(path)
        if ask and not self.maybe_discard():
            return False
        try:
            experiment = load(path)  # regular files only, bounded before parsing
        except specmod.SpecError as exc:  # ExperimentFileError too
            dialogs.show_error(self.window, "Cannot open experiment", f"{path.name}: {exc}")
            return False
        except OSError as exc:
            dialogs.show_error(self.window, "Cannot open experiment", f"{path}: {exc.strerror or exc}")
            return False
        example = is_example(path)
        spec = self._data_found(experiment.spec, path)
        if spec is None:
            return False
        self.run.shutdown()
        runs = RunList.from_saved(experiment.runs)
        self.session.replace(spec, runs, None if example else path.resolve(), origin=path.resolve().parent,
                             current=experiment.current, view=experiment.view, sweep=experiment.sweep)
        if spec != experiment.spec:  # the data file was pointed to: unsaved
            self.session.mark_changed()
        self.loaded(spec, spec.description)
        self.add_recent(path.resolve())
        if example:
            self.status(f"Opened the example {path.name} as an untitled copy (Save asks where)", 8000)
        else:
            self.status(f"Opened {path.name}", 5000)
        return True

    def _data_found(self, spec: ExperimentSpec, path: Path) -> Optional[ExperimentSpec]:
        """``spec`` once its data loads (a missing CSV file may be pointed to), or None."""
        from workbench.data import DataError

        folder = path.resolve().parent
        while True:
            try:
                self.session.remember(spec.data, folder, self.session.loader(spec.data, folder))
                return spec
            except (DataError, OSError, ValueError) as exc:
                looked_for = self._missing_csv(spec, folder)
                if looked_for is None:
                    dialogs.show_error(self.window, "Cannot open experiment", f"{path.name}: data: {first_line(exc)}")
                    return None
                found = dialogs.locate_data(self.window, looked_for)
                if not found:
                    return None
                spec = specmod.replace(spec, data=specmod.replace(spec.data, "data", csv_path=str(found)))

    @staticmethod
    def _missing_csv(spec: ExperimentSpec, folder: Path) -> Optional[str]:
        """The absolute path a CSV recipe looked for, when that file does not exist."""
        if spec.data.source != "csv" or not spec.data.csv_path:
            return None
        looked_for = (folder / spec.data.csv_path).resolve()
        return None if looked_for.exists() else str(looked_for)

    # -- Save ------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save (Ctrl+S): the settings, every run (results and weights) and the view hints."""
        if self.session.path is None:
            return self.save_as()
        return self.save_to(self.session.path)

    def save_as(self) -> bool:
        path = self.ask_save_path()
        return self.save_to(path) if path else False

    def ask_save_path(self) -> Optional[str]:
        """The Save As dialog: a path ending in .json, or None if cancelled."""
        s = self.session
        start = str(s.path) if s.path is not None else str(self.recent_dir() / f"{safe_stem(s.spec.name)}.json")
        path = dialogs.get_save_path(self.window, "Save experiment as", start, dialogs.FILE_FILTER)
        if not path:
            return None
        return path if Path(path).suffix else path + ".json"

    def save_to(self, path) -> bool:
        """Write the experiment: the settings in the docks and every run with its own."""
        from workbench.experiment_file import ReadOnlyFile, WeightsTooLarge, save

        reason = self.commit()
        if reason:
            self.status(f"Not saved: {reason}", 10000)
            return False
        s = self.session
        path = Path(path).absolute()
        runs, current = s.saved_runs()
        options = {"base_dir": s.base_dir(), "runs": runs, "current": current, "view": s.view, "sweep": s.sweep}
        while True:
            try:
                save(path, s.spec, **options)
                break
            except ReadOnlyFile:
                if not dialogs.ask_overwrite_readonly(self.window, path.name):
                    return False
                options["overwrite_readonly"] = True
            except WeightsTooLarge as exc:
                if not dialogs.ask_save_without_weights(self.window, first_line(exc)):
                    return False
                options["without_weights"] = True
            except (OSError, specmod.SpecError) as exc:
                dialogs.show_error(self.window, "Cannot save experiment", f"{path}: {getattr(exc, 'strerror', None) or exc}")
                return False
        s.saved(path)
        self.add_recent(path)
        n = sum(1 for r in runs if r.result is not None)
        runs_text = f" with {n} run{'s' if n != 1 else ''}" if n else ""
        weights = " (without the trained weights)" if n and options.get("without_weights") else ""
        self.status(f"Saved {path.name}{runs_text}{weights}", 8000 if weights else 5000)
        return True

    def maybe_discard(self) -> bool:
        """True if the current experiment may be replaced (saved, discarded or clean).

        A run that has trained for ``LIVE_WORK_SECONDS`` counts as unsaved work: Cancel lets
        it go on; Save stops it, waits for its result and saves it; Discard leaves it to
        the caller, which shuts the run down.  A value still being typed is committed
        first (it counts as a change); one that cannot be committed keeps the experiment,
        with the reason."""
        reason = self.commit()
        if reason:
            self.status(f"Not closed: {reason}", 10000)
            return False
        run = self.run
        live_work = run.running and run.active_seconds() >= LIVE_WORK_SECONDS
        if not self.session.is_dirty() and not live_work:
            return True
        answer = dialogs.ask_save_changes(self.window, self.session.display_name())
        if answer == "save":
            path = self.session.path if self.session.path is not None else self.ask_save_path()
            if not path:  # Save As cancelled: nothing changes, a run trains on
                return False
            if run.running:
                run.finish_now()  # its result reaches the session before saving
            return self.save_to(path)
        return answer == "discard"

    # -- export -----------------------------------------------------------------------------
    def export_dialog(self, kind: str) -> bool:
        s = self.session
        stem = safe_stem(s.path.stem if s.path else s.spec.name)
        suggestion = self.recent_dir() / f"{stem}{'-history' if kind == 'csv' else '-curves'}.{kind}"
        path = dialogs.get_save_path(self.window, f"Export {kind.upper()}", str(suggestion), _EXPORT_FILTERS[kind])
        if not path:
            return False
        return self.export(kind, path if Path(path).suffix else f"{path}.{kind}")

    def export(self, kind: str, path) -> bool:
        try:
            getattr(self.curves, f"export_{kind}")(str(path))
        except Exception as exc:  # noqa: BLE001 - any failure is the user's to read
            dialogs.show_error(self.window, "Export failed", f"{path}: {exc}")
            return False
        self.status(f"Exported {Path(path).name}", 5000)
        return True

    # -- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def add_recent(self, path: Path) -> None:
        files = [str(path)] + [f for f in self.recent_files() if f != str(path)]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])
        self.rebuild_recent_menu()

    def recent_dir(self) -> Path:
        if self.session.path is not None:
            return self.session.path.parent
        files = self.recent_files()
        if files:
            return Path(files[0]).parent
        return EXAMPLES_DIR if EXAMPLES_DIR.is_dir() else Path.cwd()

    def rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = self.recent_files()
        for i, f in enumerate(files, start=1):
            act = menu.addAction(f"&{i} {Path(f).name}")
            act.setToolTip(f)
            act.setStatusTip(f)
            act.triggered.connect(lambda _c=False, f=f: self.open_path(f))
        if not files:
            menu.addAction("(none)").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear list")
        clear.setEnabled(bool(files))
        clear.triggered.connect(self.clear_recent)

    def clear_recent(self) -> None:
        self.settings.setValue("recentFiles", [])
        self.rebuild_recent_menu()

    # -- drag and drop --------------------------------------------------------------------------
    @staticmethod
    def dropped_file(mime) -> Optional[str]:
        """The first local ``.json`` file of a drag, or None."""
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if isinstance(url, QUrl) and url.isLocalFile() and url.toLocalFile().lower().endswith(".json"):
                return url.toLocalFile()
        return None

    def drop(self, mime) -> bool:
        """Open a dropped file after the drop has returned (a modal dialog inside the drop
        event blocks the source application)."""
        path = self.dropped_file(mime)
        if path:
            QTimer.singleShot(0, lambda: self.open_path(path))
        return bool(path)


__all__ = ["FileController", "LIVE_WORK_SECONDS", "EXAMPLES_DIR", "is_example", "safe_stem"]
