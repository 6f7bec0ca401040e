"""The runs of a session: every run is kept, named, coloured and comparable.

A :class:`Run` is one training run: the settings it trained with, its result (None while
it is queued or training), the run it was made from (``parent``: "duplicate and change",
or simply the run before an edit) and the group of seeds it belongs to ("repeat x N").
:class:`RunList` holds them in order, gives each a colour (a group shares one), names
them in legends by what differs from their parent (:func:`workbench.changes.describe_change`),
reads the table's numbers (at the best epoch or the last, :mod:`workbench.compare`) and
converts to and from the experiment file's :class:`~workbench.spec.SavedRun`.

What a session holds can always be saved: at most :data:`MAX_RUNS` runs whose histories
hold at most :data:`~workbench.limits.MAX_FILE_HISTORY` numbers together (a finished run
counts what it holds, a run still to finish what it may hold: :func:`history_reserve`).
New runs make room by removing the oldest finished unpinned runs (:meth:`RunList.evictable`);
when those are not enough they are refused.  (Markers are thinned when saving, weights
that do not fit are left out when asked: :func:`workbench.experiment_file.dumps`.)

No Qt here: the window's Runs dock and the CLI both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import numpy as np

from . import compare
from .changes import describe_change, fairness
from .limits import MAX_FILE_HISTORY, MAX_RUNS, MAX_SEED
from .spec import ExperimentSpec, RunResult, SavedRun

#: colours a run can have (indices into the window's run palette)
N_COLORS = 8
#: statuses a run has before it has a result
PENDING = ("queued", "running")
#: a run's status as the window says it (files and CSV keep the status itself)
STATUS_TEXT = {"finished": "done", "early_stopped": "early stopped", "stopped": "stopped", "diverged": "diverged",
               "failed": "failed", "running": "training", "queued": "queued"}
#: A run's name is at most this long (the table's cell, the legend; longer ones are cut).
MAX_RUN_NAME = 200


def run_name(text) -> str:
    """``text`` as a run's name: one line (tabs, newlines and other control characters
    become spaces, runs of spaces one), trimmed, at most :data:`MAX_RUN_NAME` characters;
    '' when nothing is left."""
    cleaned = "".join(" " if (c.isspace() or not c.isprintable()) else c for c in str(text))
    return " ".join(cleaned.split())[:MAX_RUN_NAME]


@dataclass(eq=False)
class Run:
    """One run of the session (see the module docstring).  ``id`` is unique in the
    session and never reused; ``parent`` is the id of the run it was made from."""

    id: int
    name: str
    spec: ExperimentSpec
    result: Optional[RunResult] = None
    parent: Optional[int] = None
    group: Optional[str] = None
    color: int = 0
    visible: bool = True
    pinned: bool = False
    status: str = "queued"

    @property
    def seed(self) -> int:
        return self.spec.training.seed

    @property
    def history(self) -> dict:
        return self.result.history if self.result is not None else {}

    @property
    def done(self) -> bool:
        return self.status not in PENDING


def history_numbers(result: Optional[RunResult]) -> int:
    """The numbers ``result``'s histories hold (training and follow-up, every column)."""
    if result is None:
        return 0
    return sum(len(column) for hist in (result.history, result.followup_history or {}) for column in hist.values())


#: the metric names a history has columns of, by task (None: not known yet)
_TASK_METRICS = {"classification": ("accuracy",), "regression": ("rmse", "r2"), None: ("accuracy", "rmse", "r2")}


def history_reserve(spec: ExperimentSpec, task: Optional[str] = None) -> int:
    """The most numbers a run of ``spec`` can leave in its histories (``task``:
    ``classification``, ``regression`` or None for either): ``training.epochs`` rows of
    the five fixed columns and the train and validation metrics of the task, and as many
    rows again of the fixed columns and the train metrics when early stopping has a
    follow-up (``retrain`` trains at most the best epoch's count, ``continue`` at most
    ``training.epochs``).  At most 100,000 * 11 + 100,000 * 8 = 1,900,000, under
    :data:`~workbench.limits.MAX_FILE_HISTORY`: one run always fits a file."""
    metrics = len(_TASK_METRICS.get(task, _TASK_METRICS[None]))
    rows = int(spec.training.epochs)
    numbers = rows * (5 + 2 * metrics)
    if spec.early_stopping.enabled and spec.early_stopping.followup != "none":
        numbers += rows * (5 + metrics)
    return numbers


def run_numbers(run: "Run", task: Optional[str] = None) -> int:
    """The history numbers ``run`` counts against the file's budget: what its result
    holds, or, while it is queued or training, what it may hold."""
    return history_reserve(run.spec, task) if not run.done else history_numbers(run.result)


def runs_numbers(runs: Sequence["Run"]) -> int:
    """The history numbers finished ``runs`` hold together."""
    return sum(history_numbers(r.result) for r in runs)


def metric_columns(result: Optional[RunResult]) -> tuple[str, str]:
    """The validation and test metric columns a result has: accuracy for classification,
    R² for regression (``('val_accuracy', 'test_accuracy')`` or ``('val_r2', 'test_r2')``)."""
    history = result.history if result is not None else {}
    if any(v is not None for v in history.get("val_r2", ())) or "test_r2" in (result.final_metrics if result else {}):
        return "val_r2", "test_r2"
    return "val_accuracy", "test_accuracy"


#: the runs table's columns: (key, header, tooltip); the window and the CSV export share them
COLUMNS = (
    ("name", "Run", "The run's name (double-click to show it, F2 to rename)"),
    ("differs", "Differs", "What differs from the run it was made from"),
    ("val_metric", "Val. metric", "Validation accuracy (or R²) at the epoch read: the best or the last"),
    ("best_epoch", "Best epoch", "The epoch whose weights early stopping kept as the best (empty without "
                                 "early stopping: the run is read at its last epoch)"),
    ("test_metric", "Test metric", "Accuracy (or R²) of the final model on the held-out test split"),
    ("train_loss", "Train loss", "Training loss at the epoch read: the best or the last"),
    ("status", "Status", "finished, early_stopped, stopped, diverged, failed — or queued / running"),
    ("wall_time", "Time (s)", "Wall-clock training time"),
    ("params", "Params", "Number of trainable parameters (weights and biases)"),
)
NUMERIC_COLUMNS = ("best_epoch", "val_metric", "test_metric", "train_loss", "wall_time", "params")


class RunList:
    """The session's runs, oldest first (see the module docstring)."""

    def __init__(self, runs: Sequence[Run] = ()):
        self._runs: list[Run] = list(runs)
        self._next_id = max((r.id for r in self._runs), default=0) + 1

    # -- access ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Run]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    def __getitem__(self, index: int) -> Run:
        return self._runs[index]

    def get(self, run_id: Optional[int]) -> Optional[Run]:
        return next((r for r in self._runs if r.id == run_id), None)

    def index(self, run_id: int) -> int:
        return next(i for i, r in enumerate(self._runs) if r.id == run_id)

    def members(self, group: Optional[str]) -> list[Run]:
        """The runs of ``group`` (seeds of one "repeat x N"), in order."""
        return [r for r in self._runs if group is not None and r.group == group]

    def groups(self) -> dict[str, list[Run]]:
        out: dict[str, list[Run]] = {}
        for r in self._runs:
            if r.group is not None:
                out.setdefault(r.group, []).append(r)
        return out

    # -- changes ---------------------------------------------------------------------------------
    def add(self, spec: ExperimentSpec, *, parent: Optional[int] = None, group: Optional[str] = None,
            name: Optional[str] = None, color: Optional[int] = None) -> Run:
        """A new queued run of ``spec``; its colour is the least used one (or ``color``).
        Raises ValueError when the list already holds :data:`MAX_RUNS` runs
        (:meth:`evictable` says which to remove first)."""
        if len(self._runs) >= MAX_RUNS:
            raise ValueError(f"a session keeps at most {MAX_RUNS} runs; delete some first")
        run = Run(id=self._next_id, name=name or f"run {self._next_id}", spec=spec, parent=parent, group=group,
                  color=self.free_color() if color is None else int(color) % N_COLORS)
        self._next_id += 1
        self._runs.append(run)
        return run

    def add_group(self, spec: ExperimentSpec, seeds: Sequence[int], *, parent: Optional[int] = None) -> list[Run]:
        """One queued run per seed of ``spec`` ("repeat x N"): one group, one colour."""
        seeds = list(seeds)
        if not seeds:
            raise ValueError("a group needs at least one seed")
        if len(set(seeds)) != len(seeds):
            raise ValueError("a group's seeds must differ")
        if len(self._runs) + len(seeds) > MAX_RUNS:
            raise ValueError(f"a session keeps at most {MAX_RUNS} runs; delete some first")
        first = self._next_id
        group = f"group {first} · seeds {seeds_text(seeds)}"
        color = self.free_color()
        return [self.add(_with_seed(spec, s), parent=parent, group=group, name=f"run {first} · seed {s}", color=color)
                for s in seeds]

    def add_saved(self, saved: Sequence[SavedRun]) -> list[Run]:
        """Finished runs from elsewhere (a sweep's trials), appended in order; their groups
        get names of this list's own (a file's group names may already be in use here).
        ValueError when they would make the list more than a file keeps (:data:`MAX_RUNS`
        runs, :data:`MAX_FILE_HISTORY` history numbers)."""
        if len(self._runs) + len(saved) > MAX_RUNS:
            raise ValueError(f"a session keeps at most {MAX_RUNS} runs; delete some first")
        adding = sum(history_numbers(s.result) for s in saved)
        if self.history_numbers() + adding > MAX_FILE_HISTORY:
            raise ValueError(f"their histories would make the session's {self.history_numbers() + adding:,} numbers, "
                             f"more than the {MAX_FILE_HISTORY:,} a file keeps; delete some runs first")
        groups: dict = {}
        out = []
        for s in saved:
            group = None
            if s.group is not None:
                group = groups.setdefault(s.group, (f"group {self._next_id} · {s.group}", self.free_color()))
            run = self.add(s.spec, name=s.name, group=group[0] if group else None, color=group[1] if group else None)
            run.result, run.status = s.result, (s.result.status if s.result is not None else "stopped")
            out.append(run)
        return out

    def free_color(self) -> int:
        """The palette index fewest runs (or groups, counted once) use, lowest first."""
        used = [0] * N_COLORS
        seen = set()
        for r in self._runs:
            key = r.group or r.id
            if key not in seen:
                seen.add(key)
                used[r.color % N_COLORS] += 1
        return int(np.argmin(used))

    def remove(self, run_ids: Sequence[int]) -> list[tuple[int, Run]]:
        """Remove runs; returns ``(index, run)`` pairs (for undo: :meth:`restore`).  Runs
        made from a removed run keep it as their parent only by id (their "differs" then
        reads against nothing)."""
        ids = set(run_ids)
        removed = [(i, r) for i, r in enumerate(self._runs) if r.id in ids]
        self._runs = [r for r in self._runs if r.id not in ids]
        return removed

    def restore(self, removed: Sequence[tuple[int, Run]]) -> None:
        """Put back what :meth:`remove` returned, at the same places."""
        for i, run in sorted(removed, key=lambda p: p[0]):
            self._runs.insert(min(i, len(self._runs)), run)

    def evictable(self, n: int, keep: Sequence[int] = (), numbers: int = 0, task: Optional[str] = None) -> list[Run]:
        """The oldest runs that may go (finished, not pinned, not in ``keep``) to make
        room for ``n`` more runs that may hold ``numbers`` history numbers: as few as
        leave at most :data:`MAX_RUNS` runs and :data:`MAX_FILE_HISTORY` numbers (runs
        still to finish count :func:`history_reserve` of ``task``); all that may go
        when that is not enough (:meth:`room_after` then says what is missing)."""
        keep = set(keep)
        runs_over = len(self._runs) + n - MAX_RUNS
        numbers_over = self.history_numbers(task) + numbers - MAX_FILE_HISTORY
        out = []
        for r in self._runs:
            if runs_over <= 0 and numbers_over <= 0:
                break
            if r.done and not r.pinned and r.id not in keep:
                out.append(r)
                runs_over -= 1
                numbers_over -= history_numbers(r.result)
        return out

    def room_after(self, evicted: Sequence[Run], n: int, numbers: int = 0, task: Optional[str] = None) -> str:
        """Why ``n`` more runs that may hold ``numbers`` history numbers do not fit once
        ``evicted`` are gone ('' when they do)."""
        gone = {r.id for r in evicted}
        runs = len(self._runs) - len(gone) + n
        if runs > MAX_RUNS:
            kept = len(self._runs) - len(gone)
            stay = "stays" if kept == 1 else "stay"
            return (f"a session keeps at most {MAX_RUNS} runs: {kept} {stay} (pinned, training or shown) beside the "
                    f"{n} new; delete or unpin some, or train fewer seeds")
        held = sum(run_numbers(r, task) for r in self._runs if r.id not in gone) + numbers
        if held > MAX_FILE_HISTORY:
            kept = " beside the runs that are pinned, training or shown" if held - numbers > 0 else ""
            return (f"the runs' histories would hold {held:,} numbers, more than the {MAX_FILE_HISTORY:,} a file "
                    f"keeps{kept}; train fewer epochs or seeds, or delete or unpin runs")
        return ""

    def history_numbers(self, task: Optional[str] = None) -> int:
        """The history numbers the runs count against the file's budget (:func:`run_numbers`)."""
        return sum(run_numbers(r, task) for r in self._runs)

    # -- reading -------------------------------------------------------------------------------
    def parent_of(self, run: Run) -> Optional[Run]:
        return self.get(run.parent)

    def differs(self, run: Run) -> str:
        """What differs from the run it was made from ("η 0.01 → 0.1"), '' if nothing or no parent.
        When either is one seed of a group, the seeds are not a difference: a group's
        "differs" names the change."""
        parent = self.parent_of(run)
        if parent is None:
            return ""
        before = parent.spec if run.group is None and parent.group is None else _with_seed(parent.spec, run.seed)
        return describe_change(before, run.spec)

    def label(self, run: Run) -> str:
        """The legend's name of a run (or its group): what differs from its parent, with
        what the change could not keep the same ("other architecture: new initial
        weights"), else its name."""
        parent = self.parent_of(run)
        text = self.differs(run)
        if run.group is not None:
            members = self.members(run.group)
            text = (text or run.group.split(" · ", 1)[0]) + f" × {len(members)}"
        elif not text:
            return run.name
        if parent is not None:
            fair = fairness(parent.spec, run.spec)
            if fair.reason:
                text += f" — {fair.reason}"
        return text

    def row(self, run: Run, at: str = "best", n_params: Optional[int] = None) -> dict:
        """The table's values of ``run`` (keys of :data:`COLUMNS`), read ``at`` its best
        epoch or its last; None where a value does not exist (yet)."""
        result = run.result
        val_col, test_col = metric_columns(result)
        row = {"name": run.name, "differs": self.differs(run), "status": run.status, "params": n_params,
               "best_epoch": None, "val_metric": None, "test_metric": None, "train_loss": None, "wall_time": None}
        if result is not None:
            row.update(
                best_epoch=compare.best_epoch(result),
                val_metric=compare.reading(result, val_col, at),
                test_metric=result.final_metrics.get(test_col),
                train_loss=compare.reading(result, "train_loss", at),
                wall_time=result.wall_time,
            )
        return row

    def summary(self, rows: Sequence[dict]) -> dict:
        """Mean ± std (sample std, ddof 1) of each numeric column over ``rows`` (a group's
        seeds): ``{column: (mean, std, n)}`` with None where no row has the value."""
        out = {}
        for key in NUMERIC_COLUMNS:
            values = np.array([r[key] for r in rows if r.get(key) is not None], dtype=np.float64)
            values = values[np.isfinite(values)]
            if values.size == 0:
                out[key] = None
            else:
                std = float(values.std(ddof=1)) if values.size > 1 else float("nan")
                out[key] = (float(values.mean()), std, int(values.size))
        return out

    def table_csv(self, at: str = "best", params=None) -> str:
        """The runs table as CSV (``params(run)`` gives a run's parameter count)."""
        header = [h for _k, h, _t in COLUMNS] + ["seed", "group"]
        rows = []
        for run in self._runs:
            row = self.row(run, at, params(run) if params else None)
            rows.append([row[k] for k, _h, _t in COLUMNS] + [run.seed, run.group or ""])
        return compare.table_csv(header, rows)

    def paired_reading(self, group_a: str, group_b: str, column: str, at: str = "best",
                       confidence: float = 0.95) -> tuple[float, float, float, int]:
        """B − A of ``column`` read at each run's best (or last) epoch, paired by seed:
        ``(d̄, low, high, n)`` with the t-interval d̄ ± t_{n−1,(1+c)/2} s_d/√n (NaN bounds
        for n < 2).  ValueError when the groups share no seed with both readings."""
        a = {r.seed: r.result for r in self.members(group_a) if r.result is not None}
        b = {r.seed: r.result for r in self.members(group_b) if r.result is not None}
        diffs = []
        for seed in sorted(set(a) & set(b)):
            ra, rb = compare.reading(a[seed], column, at), compare.reading(b[seed], column, at)
            if ra is not None and rb is not None:
                diffs.append(rb - ra)
        mean, std, n = compare.mean_std(diffs)
        if n == 0:
            raise ValueError("the two groups share no seed with a finished reading")
        half = compare.t_quantile(0.5 * (1.0 + confidence), n - 1) * std / np.sqrt(n) if n >= 2 else float("nan")
        return mean, mean - half, mean + half, n

    def paired_histories(self, group_a: str, group_b: str) -> tuple[dict, dict]:
        """The two groups' finished histories by seed (for :func:`workbench.compare.paired_difference`)."""
        return tuple({r.seed: r.result.history for r in self.members(g) if r.result is not None}
                     for g in (group_a, group_b))

    # -- files -------------------------------------------------------------------------------------
    def to_saved(self) -> tuple[SavedRun, ...]:
        """The runs as a file keeps them (parents as indices; a run still training is
        saved without a result)."""
        where = {r.id: i for i, r in enumerate(self._runs)}
        return tuple(
            SavedRun(name=r.name, spec=r.spec, result=r.result if r.done else None, parent=where.get(r.parent),
                     group=r.group, color=r.color, visible=r.visible, pinned=r.pinned)
            for r in self._runs
        )

    @classmethod
    def from_saved(cls, saved: Sequence[SavedRun]) -> "RunList":
        runs = [
            Run(id=i + 1, name=s.name, spec=s.spec, result=s.result,
                parent=None if s.parent is None or s.parent == i else s.parent + 1, group=s.group,
                color=s.color % N_COLORS, visible=s.visible, pinned=s.pinned,
                status=s.result.status if s.result is not None else "stopped")
            for i, s in enumerate(saved)
        ]
        return cls(runs)


def _with_seed(spec: ExperimentSpec, seed: int) -> ExperimentSpec:
    from .spec import replace

    return replace(spec, "", training=replace(spec.training, "training", seed=int(seed)))


def parse_seeds(text: str) -> list[int]:
    """The seeds of ``--seeds``: comma-separated seeds and ranges ``a-b`` (both ends
    included), e.g. ``0-7``, ``1,3,5``, ``0-3,9``; each seed at most once, at most
    ``MAX_RUNS`` of them.  ValueError naming the part that is wrong."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        if not _digits(low) or (dash and not _digits(high)):
            raise ValueError(f"{part!r} is neither a seed nor a range a-b of seeds (e.g. 0-7, 1,3,5 or 0-3,9)")
        a, b = int(low), int(high) if dash else int(low)
        if a > b:
            raise ValueError(f"{part!r} is an empty range: {a} > {b}")
        if b > MAX_SEED:
            raise ValueError(f"{part!r}: a seed is at most {MAX_SEED}")
        if len(seeds) + b - a + 1 > MAX_RUNS:
            raise ValueError(f"{text!r} asks for more than {MAX_RUNS} seeds, the runs a file keeps")
        seeds.extend(range(a, b + 1))
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"seed {repeated[0]} is given twice")
    return seeds


def _digits(text: str) -> bool:
    return text.strip().isascii() and text.strip().isdigit()


def seeds_text(seeds: Sequence[int]) -> str:
    """Seeds written compactly: [0, 1, 2, 3, 9] -> '0-3,9' (at most 160 characters)."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    text = ",".join(parts)
    return text if len(text) <= 160 else text[:150].rsplit(",", 1)[0] + f",… ({len(seeds)})"
