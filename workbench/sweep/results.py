"""A sweep's results as rows: sorted, as aligned text, as CSV, and as runs of a file.

One :class:`Row` per trial: its index, the point's values, the seed, how it ended
(``status`` and ``reason``), the best epoch (early stopping's, else the last), the
validation metric and loss read at that epoch (:func:`workbench.compare.reading`), the
test metric of the final model, the final training loss and the wall time.  The metric is
accuracy for classification and R² for regression (both: higher is better).

:func:`sort_rows` puts the best first (the validation metric at the best epoch by default;
any column; rows without a value last).  :func:`point_rows` gives the mean ± sample std
(n − 1) of each point's seeds.  :func:`saved_runs` turns the trials into
:class:`~workbench.spec.SavedRun` s for the window's Runs dock or a file (named
``trial 3: η 0.01, L2 α 0.0001``, the seeds of a point one group).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

from ..compare import best_epoch, mean_std, reading, table_csv
from ..limits import MAX_RUNS
from ..spec import RunResult, SavedRun
from .fields import FieldInfo, format_value
from .spec import Trial, point_label
from .trial import TrialOutcome

#: The numeric columns of a row: (key, header, higher is better?)
NUMERIC = (
    ("best_epoch", "Best epoch", None),
    ("val_metric", "Val. metric", True),
    ("val_loss", "Val. loss", False),
    ("test_metric", "Test metric", True),
    ("train_loss", "Train loss", False),
    ("wall_time", "Time (s)", False),
)
#: Every column of a row in table order: trial, the point's fields, then these.
COLUMNS = (("index", "Trial"), ("seed", "Seed"), ("status", "Status")) + tuple((k, h) for k, h, _ in NUMERIC) + (
    ("reason", "Reason"),)
#: Statuses of trials that have not ended.
PENDING = ("queued", "running")
#: Names the runs of a file get, at most this many characters.
_MAX_NAME = 200


@dataclass(frozen=True)
class Row:
    """One trial of a sweep (see the module docstring); None where there is no value."""

    index: int
    point_index: int
    point: dict
    seed: int
    status: str
    reason: str = ""
    best_epoch: Optional[int] = None
    val_metric: Optional[float] = None
    val_loss: Optional[float] = None
    test_metric: Optional[float] = None
    train_loss: Optional[float] = None
    wall_time: Optional[float] = None
    epochs: int = 0

    def value(self, key: str):
        """The value of column ``key`` (a field path: the point's value)."""
        return self.point[key] if key in self.point else getattr(self, key)


def metric_keys(results: Iterable[Optional[RunResult]]) -> tuple[str, str]:
    """The validation history column and test metric of the results: ``val_r2``/``test_r2``
    when some result is a regression's, else ``val_accuracy``/``test_accuracy``."""
    for result in results:
        if result is not None and ("val_r2" in result.history or "test_r2" in result.final_metrics
                                   or "train_r2" in result.history):
            return "val_r2", "test_r2"
    return "val_accuracy", "test_accuracy"


def row(trial: Trial, outcome: Optional[TrialOutcome], keys: tuple[str, str] = ("val_accuracy", "test_accuracy"),
        running: bool = False) -> Row:
    """The row of ``trial`` with its ``outcome`` (None: ``queued``, or ``running``)."""
    if outcome is None:
        return Row(trial.index, trial.point_index, trial.point, trial.seed, "running" if running else "queued")
    result = outcome.result
    if result is None:
        return Row(trial.index, trial.point_index, trial.point, trial.seed, outcome.status, outcome.reason,
                   wall_time=outcome.seconds or None)
    epochs = len(result.history.get("epoch", ()))
    best = best_epoch(result)
    val_key, test_key = keys
    test = result.final_metrics.get(test_key)
    return Row(trial.index, trial.point_index, trial.point, trial.seed, outcome.status, outcome.reason,
               best if best is not None else (epochs or None), reading(result, val_key, "best"),
               reading(result, "val_loss", "best"), test if test is not None and math.isfinite(test) else None,
               reading(result, "train_loss", "last"), outcome.seconds, epochs)


def rows(trials: Sequence[Trial], outcomes: Mapping[int, TrialOutcome], running: Iterable[int] = ()) -> list[Row]:
    """One row per trial, in trial order."""
    keys = metric_keys(o.result for o in outcomes.values())
    running = set(running)
    return [row(t, outcomes.get(t.index), keys, t.index in running) for t in trials]


def better_high(key: str) -> Optional[bool]:
    """Whether a higher value of column ``key`` is better (None: neither, e.g. the epoch)."""
    return next((high for k, _, high in NUMERIC if k == key), None)


def sort_rows(table: Sequence[Row], key: str = "val_metric", descending: Optional[bool] = None) -> list[Row]:
    """``table`` sorted by column ``key``, the best first (``descending`` for a higher-is-
    better column, unless given); rows without a value last, ties by trial index."""
    if descending is None:
        descending = bool(better_high(key))
    present = sorted((r for r in table if _present(r.value(key))), key=lambda r: r.index)
    missing = sorted((r for r in table if not _present(r.value(key))), key=lambda r: r.index)
    if all(isinstance(r.value(key), (int, float)) and not isinstance(r.value(key), bool) for r in present):
        present.sort(key=lambda r: -r.value(key) if descending else r.value(key))
    else:  # text (a choice), on/off: alphabetical
        present.sort(key=lambda r: str(r.value(key)), reverse=descending)
    return present + missing


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


@dataclass(frozen=True)
class PointRow:
    """The seeds of one point: mean and sample std (n − 1) of each number over the seeds
    that have one, the statuses counted (``"3 finished, 1 diverged"``)."""

    point_index: int
    point: dict
    seeds: tuple
    statuses: str
    means: dict
    stds: dict
    n: dict


def point_rows(table: Sequence[Row]) -> list[PointRow]:
    """One :class:`PointRow` per point, in point order."""
    by_point: dict[int, list[Row]] = {}
    for r in table:
        by_point.setdefault(r.point_index, []).append(r)
    out = []
    for p, members in sorted(by_point.items()):
        counts: dict[str, int] = {}
        for r in members:
            counts[r.status] = counts.get(r.status, 0) + 1
        means, stds, ns = {}, {}, {}
        for key, _, _ in NUMERIC:
            means[key], stds[key], ns[key] = mean_std(getattr(r, key) for r in members)
        out.append(PointRow(p, members[0].point, tuple(r.seed for r in members),
                            ", ".join(f"{n} {s}" for s, n in counts.items()), means, stds, ns))
    return out


# ---------------------------------------------------------------------------
# Text and CSV


def cell_text(key: str, value) -> str:
    """A table cell: — for no value, seconds with 2 decimals, metrics and losses with 4
    significant digits, other values as :func:`~workbench.sweep.fields.format_value`."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if key == "wall_time":
        return f"{value:.2f}"
    if key in ("val_metric", "test_metric", "val_loss", "train_loss"):
        return f"{value:.4g}"
    return format_value(value)


def headers(infos: Mapping[str, FieldInfo], fields: Sequence[str]) -> list[str]:
    """The table's header: Trial, each field's label, then the other columns."""
    return ["Trial"] + [infos[f].label if f in infos else f for f in fields] + [h for _, h in COLUMNS[1:]]


def _cells(r: Row, fields: Sequence[str]) -> list:
    return [r.index] + [r.point.get(f) for f in fields] + [r.value(k) for k, _ in COLUMNS[1:]]


def table_text(table: Sequence[Row], infos: Mapping[str, FieldInfo], *, reason_width: int = 60) -> str:
    """The rows as an aligned text table (numbers right-aligned; the reason cut at
    ``reason_width`` characters), in the order given."""
    fields = list(table[0].point) if table else list(infos)
    keys = ["index"] + fields + [k for k, _ in COLUMNS[1:]]
    lines = [headers(infos, fields)]
    for r in table:
        cells = [cell_text(k, v) for v, k in zip(_cells(r, fields), keys)]
        if len(cells[-1]) > reason_width:
            cells[-1] = cells[-1][:reason_width - 1] + "…"
        lines.append(cells)
    widths = [max(len(line[c]) for line in lines) for c in range(len(keys))]
    text_columns = {"status", "reason"} | {f for f in fields if not (infos.get(f) and infos[f].numeric)}
    out = []
    for line in lines:
        cells = [(c.ljust(w) if k in text_columns else c.rjust(w)) for c, w, k in zip(line, widths, keys)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def rows_csv(table: Sequence[Row], infos: Mapping[str, FieldInfo]) -> str:
    """The rows as CSV (:func:`workbench.compare.table_csv`: full precision, empty cells
    for missing values, formula-like text quoted); field columns headed by their paths."""
    fields = list(table[0].point) if table else list(infos)
    header = ["trial"] + fields + [k for k, _ in COLUMNS[1:]]
    return table_csv(header, (_cells(r, fields) for r in table))


# ---------------------------------------------------------------------------
# Runs


def trial_name(trial: Trial, infos: Mapping[str, FieldInfo], repeats: int = 1) -> str:
    """``"trial 3: η 0.01, L2 α 0.0001"`` (``"..., seed 2"`` when the point has several seeds)."""
    name = f"trial {trial.index}: {point_label(trial.point, infos)}"
    if repeats > 1:
        name += f", seed {trial.seed}"
    return name if len(name) <= _MAX_NAME else name[:_MAX_NAME - 1] + "…"


def group_name(trial: Trial, infos: Mapping[str, FieldInfo]) -> str:
    """``"point 2: η 0.01, L2 α 0.0001"``: the group of a point's seeds."""
    name = f"point {trial.point_index}: {point_label(trial.point, infos)}"
    return name if len(name) <= _MAX_NAME else name[:_MAX_NAME - 1] + "…"


def saved_run(trial: Trial, outcome: TrialOutcome, infos: Mapping[str, FieldInfo], repeats: int = 1) -> SavedRun:
    """Trial ``trial`` as a run the window opens (its spec and result; the seeds of a
    point share a group and a colour)."""
    if trial.spec is None:
        raise ValueError(f"trial {trial.index} has no settings to open: {trial.problem}")
    return SavedRun(name=trial_name(trial, infos, repeats), spec=trial.spec, result=outcome.result,
                    group=group_name(trial, infos) if repeats > 1 else None, color=trial.point_index % 1024)


def saved_runs(trials: Sequence[Trial], outcomes: Mapping[int, TrialOutcome], infos: Mapping[str, FieldInfo],
               repeats: int = 1, limit: int = MAX_RUNS, key: str = "val_metric") -> tuple[SavedRun, ...]:
    """The trials that trained (have a result) as runs, in trial order: the best points
    (by ``key`` over their seeds' rows, whole points) up to ``limit`` runs, as a file keeps
    at most MAX_RUNS."""
    table = [r for r in rows(trials, outcomes) if outcomes.get(r.index) is not None
             and outcomes[r.index].result is not None]
    best_first = sort_rows(table, key)
    chosen: set[int] = set()
    points_done: set[int] = set()
    for r in best_first:
        if r.point_index in points_done:
            continue
        members = [m.index for m in table if m.point_index == r.point_index]
        if len(chosen) + len(members) > limit:
            break
        chosen.update(members)
        points_done.add(r.point_index)
    by_index = {t.index: t for t in trials}
    return tuple(saved_run(by_index[i], outcomes[i], infos, repeats) for i in sorted(chosen))


def best_index(trials: Sequence[Trial], outcomes: Mapping[int, TrialOutcome], key: str = "val_metric") -> Optional[int]:
    """The trial with the best ``key`` (None when no trial has a value)."""
    table = [r for r in rows(trials, outcomes) if r.value(key) is not None]
    return sort_rows(table, key)[0].index if table else None


__all__ = ["COLUMNS", "NUMERIC", "PointRow", "Row", "best_index", "better_high", "cell_text", "headers", "metric_keys",
           "point_rows", "row", "rows", "rows_csv", "saved_run", "saved_runs", "sort_rows", "table_text",
           "trial_name"]
