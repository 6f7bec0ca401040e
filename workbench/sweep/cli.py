"""``mlp-workbench sweep FILE``: run the sweep of an experiment file headless.

FILE is an experiment file with a ``"sweep"`` key (:mod:`workbench.sweep.file`).  The
trials run on a local Dask cluster of ``--workers`` processes (default: one per core) or
on the cluster of ``--scheduler tcp://host:port``, with a progress bar over the trials;
then one table of every trial, best first (the validation metric at the best epoch), and
with ``--repeats`` > 1 a second of each point's mean ± std over its seeds.  ``--out``
gets the experiment, its sweep and the trials as runs (the best points, as many as a file
keeps); ``--csv`` every row.  Invalid input, an unreachable scheduler: status 2 and one
line.  Ctrl+C cancels: running trials stop at their next epoch and what finished is
still written (status 130).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Optional, Sequence

from .. import spec as specmod
from ..cli import _fail


def _usage_error(message: str) -> NoReturn:
    """argparse's errors as one line (``mlp-workbench: error: sweep: ...``), status 2."""
    print(f"mlp-workbench: error: sweep: {message}", file=sys.stderr)
    raise SystemExit(2)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlp-workbench sweep",
        description="Run the sweep of an experiment file (its \"sweep\" key: the settings to vary, grid or random, "
                    "repeats and a budget) on a local Dask cluster or on a scheduler; print the trials best first "
                    "and write them as runs.",
    )
    p.add_argument("file", help="experiment file (.json) with a \"sweep\" key")
    p.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler's workers instead")
    p.add_argument("--out", help="where to write the experiment with its sweep and trials "
                                 "(default: FILE-STEM.sweep.json here)")
    p.add_argument("--csv", help="also write every trial's row as CSV")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-weights", action="store_true", help="do not store the trained weights in the output")
    p.error = _usage_error
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:  # --help (0) or a one-line usage error (2) leave through SystemExit
        args = parser().parse_args(list(sys.argv[2:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return sweep_file(args)


def sweep_file(args: argparse.Namespace) -> int:
    from ..cli import _cannot_write, _with_progress
    from ..data import DataError, load_dataset
    from ..experiment_file import ExperimentFileError
    from . import results as R
    from .file import load
    from .runner import Cluster, SweepError, SweepRunner, default_workers
    from .spec import plan_text

    if args.workers is not None and args.scheduler is not None:
        return _fail("sweep: --workers and --scheduler: give one of them (a scheduler's workers are its own)")
    if args.workers is not None and args.workers < 1:
        return _fail(f"sweep: --workers: must be at least 1, got {args.workers}")
    path = Path(args.file)
    try:
        found = load(path)
        if found.sweep is None:
            return _fail(f"{path}: the file has no \"sweep\" key (the settings to vary); see README, Sweeps")
        spec, sweep = found.spec, found.sweep
        dataset = load_dataset(spec.data, base_dir=path.parent)
        cluster = Cluster(args.workers, args.scheduler)
        runner = SweepRunner(spec, sweep, dataset, cluster=cluster)
    except (ExperimentFileError, specmod.SpecError, DataError, SweepError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror or exc}")
    out = Path(args.out) if args.out else Path(f"{path.stem}.sweep.json")
    csv_out = Path(args.csv) if args.csv else None
    for target in filter(None, (out, csv_out)):
        problem = _cannot_write(target)
        if problem:  # found out before training, not after
            return _fail(f"cannot write {target}: {problem}")
    for warning in getattr(dataset, "warnings", ()):
        print(f"warning: {warning}", file=sys.stderr)
    where = (f"the cluster at {args.scheduler}" if args.scheduler
             else f"a local cluster of {args.workers or default_workers()} workers")
    print(f"{spec.name}: {plan_text(sweep)} on {where}", file=sys.stderr)

    def train(bar) -> None:
        def progress(outcome, done, total) -> None:
            bar.update(1)
            if outcome.status in ("failed", "diverged"):
                bar.write(f"trial {outcome.index}: {outcome.status}: {outcome.reason}")

        runner.on_progress = progress
        runner.run()

    try:
        completed = _with_progress(runner.total, args.quiet, train, "trials", unit="trial")
        if not completed:
            runner.cancel()
            runner.wait()
        progress = runner.poll()
        if progress.state == "failed":
            return _fail(progress.error)
    except SweepError as exc:
        return _fail(str(exc))
    finally:
        runner.close()
        cluster.close()

    outcomes = progress.outcomes
    if args.no_weights:
        outcomes = {i: _without_weights(o) for i, o in outcomes.items()}
    table = R.rows(runner.trials, outcomes)
    best_first = R.sort_rows(table)
    runs = R.saved_runs(runner.trials, outcomes, runner.infos, sweep.repeats)
    best = R.best_index(runner.trials, outcomes)
    current = next((k for k, run in enumerate(runs) if run.name.startswith(f"trial {best}:")), 0) if runs else None
    failed = _save_sweep(out, spec, sweep, path.parent, runs, current)
    if failed:
        return failed
    if csv_out is not None:
        try:
            csv_out.write_text(R.rows_csv(best_first, runner.infos), encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {csv_out}: {exc.strerror or exc}")
    print(summary(spec, sweep, runner, best_first, progress, out, len(runs)))
    if not completed:
        return 130
    return 0 if any(r.status in ("finished", "early_stopped") for r in table) else 1


def _without_weights(outcome):
    import dataclasses

    if outcome.result is None or outcome.result.weights is None:
        return outcome
    return dataclasses.replace(outcome, result=dataclasses.replace(outcome.result, weights=None))


def _save_sweep(out: Path, spec, sweep, base_dir: Path, runs, current) -> int:
    """Write the experiment, its sweep and ``runs`` to ``out`` through the CLI's ``_save``
    (weights too large for a file left out with a warning; errors as one line)."""
    from ..cli import _save
    from .file import save_experiment

    return _save(out, spec, base_dir, runs=runs, current=current, writer=save_experiment(sweep))


def summary(spec, sweep, runner, best_first, progress, out: Path, n_runs: int) -> str:
    """The lines printed after a sweep: what ran, the trials best first, each point's
    mean ± std when it has several seeds, where the results went."""
    from . import results as R
    from .spec import point_label

    counts: dict[str, int] = {}
    for r in best_first:
        counts[r.status] = counts.get(r.status, 0) + 1
    done = ", ".join(f"{n} {status}" for status, n in counts.items())
    metric = R.metric_keys(o.result for o in progress.outcomes.values())[0].replace("_", " ")
    lines = [f"{spec.name}: {len(best_first)} trials in {progress.elapsed:.1f} s ({done}); "
             f"best first by {metric} at the best epoch", R.table_text(best_first, runner.infos)]
    if sweep.repeats > 1:
        lines.append("")
        lines.append(f"per point, mean ± std over {sweep.repeats} seeds:")
        for p in sorted(R.point_rows(best_first), key=lambda p: -_or_nan(p.means["val_metric"])):
            label = point_label(p.point, runner.infos)
            lines.append(f"  point {p.point_index}: {label}: val metric {p.means['val_metric']:.4g} ± "
                         f"{p.stds['val_metric']:.2g} (n {p.n['val_metric']}), {p.statuses}")
    left_out = sum(1 for o in progress.outcomes.values() if o.result is not None) - n_runs
    lines.append(f"results written to {out}" + (f" ({n_runs} runs: the best points; {left_out} more are in the "
                                                  "table only)" if left_out > 0 else ""))
    return "\n".join(lines)


def _or_nan(x: float) -> float:
    return x if x == x else float("-inf")


if __name__ == "__main__":
    sys.exit(main())
