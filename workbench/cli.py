"""Command line: ``mlp-workbench [FILE]`` opens the window; ``mlp-workbench run FILE``
trains headless with the same trainer, shows a progress bar and writes the results."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from . import spec as specmod
from .allocator import keep_freed_memory
from .limits import MAX_FILE_HISTORY, MAX_RUNS
from .runs import history_reserve, parse_seeds, seeds_text

DESCRIPTION = """\
MLP Workbench: design, train and watch multilayer perceptrons.

  mlp-workbench [FILE]                       open the workbench window (with FILE, if given)
  mlp-workbench run FILE [--out RESULT.json] [--epochs N] [--seed N | --seeds 0-7] [--quiet]
                                             train FILE's experiment headless and save its results
                                             (--seeds: once per seed, mean ± std over the seeds)
  mlp-workbench lr-find FILE [--seeds 3] [--steps 100] [--min 1e-6] [--max 10] [--out CURVE.csv]
                                             learning-rate range test: suggested learning rates and the curve
  mlp-workbench sweep FILE [--workers N | --scheduler tcp://HOST:PORT] [--out OUT.json] [--csv ROWS.csv]
                                             run FILE's sweep (grid or random search) on a local Dask cluster
                                             or a scheduler; the trials best first, written as runs

Same spec + same seed gives identical numbers in the window, the runner and the tests.
"""


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlp-workbench", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("file", nargs="?", help="experiment file (.json) to open")
    return p


def _run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlp-workbench run",
        description="Train an experiment file headless with a progress bar; write the experiment with its results.",
    )
    p.add_argument("file", help="experiment file (.json)")
    p.add_argument("--out", help="where to write the experiment with results (default: FILE-STEM.result.json here)")
    p.add_argument("--epochs", type=int, help="override training.epochs")
    p.add_argument("--seed", type=int, help="override training.seed")
    p.add_argument("--seeds", metavar="SPEC",
                   help=f"train once per seed (e.g. 0-7, 1,3,5 or 0-3,9; at most {MAX_RUNS}), in lockstep where "
                        "possible; print mean ± std over the seeds and write every run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-weights", action="store_true", help="do not store the trained weights in the output")
    return p


def _fail(message: str, code: int = 2) -> int:
    print(f"mlp-workbench: error: {message}", file=sys.stderr)
    return code


def run_file(args: argparse.Namespace) -> int:
    from .build import build_group, build_run, check_fits, lockstep_plan
    from .data import DataError, load_dataset
    from .experiment_file import ExperimentFileError, load
    from .history import Recorder

    path = Path(args.file)
    seeds = None
    if args.seeds is not None:
        if args.seed is not None:
            return _fail("--seed and --seeds: give one of them")
        try:
            seeds = parse_seeds(args.seeds)
        except ValueError as exc:
            return _fail(f"--seeds: {exc}")
    try:
        experiment = load(path)
        spec = experiment.spec
        training = spec.training
        if args.epochs is not None:
            training = specmod.replace(training, "training", epochs=args.epochs)
        if args.seed is not None:
            training = specmod.replace(training, "training", seed=args.seed)
        spec = specmod.replace(spec, training=training)
        dataset = load_dataset(spec.data, base_dir=path.parent)
        if seeds is None:
            run = build_run(spec, dataset, emit_batches=False)
        else:
            specs = [specmod.replace(spec, training=specmod.replace(training, "training", seed=s)) for s in seeds]
            check_fits(spec, dataset)
            lockstep, why = lockstep_plan(specs, dataset)
            group = build_group(specs, dataset) if lockstep else None
    except (ExperimentFileError, specmod.SpecError, DataError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror or exc}")
    if seeds is not None:  # every run goes into one file: their histories must fit it together
        numbers = len(seeds) * history_reserve(spec, getattr(dataset, "task", None))
        if numbers > MAX_FILE_HISTORY:
            return _fail(f"--seeds: {len(seeds)} runs of {spec.training.epochs:,} epochs may hold {numbers:,} history "
                         f"numbers, more than the {MAX_FILE_HISTORY:,} one file keeps; train fewer seeds or epochs")
    out = Path(args.out) if args.out else Path(f"{path.stem}.result.json")
    problem = _cannot_write(out)
    if problem:  # found out before training, not after
        return _fail(f"cannot write {out}: {problem}")
    for warning in (*getattr(dataset, "warnings", ()), _schedule_warning(spec)):
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    if seeds is not None:
        if group is None:
            print(f"note: the seeds train one after the other: {why}", file=sys.stderr)
        return _run_seeds(args, spec, specs, group, dataset, path, out)

    recorder = Recorder(spec)
    if not _with_progress(spec.training.epochs, args.quiet, lambda bar: _follow(run.events(), [recorder], bar)):
        return 130

    result = recorder.result(weights=None if args.no_weights else run.network.params)
    failed = _save(out, spec, path.parent, result=result)
    if failed:
        return failed
    print(summary(spec, result, out))
    return 0 if result.status != "diverged" else 1


def _with_progress(total: int, quiet: bool, train, desc: Optional[str] = None, unit: str = "epoch") -> bool:
    """Call ``train(bar)`` with a tqdm progress bar of ``total`` epochs (or other ``unit`` s)
    on stderr (hidden when ``quiet``); False when the user interrupted it (Ctrl+C)."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit=unit, desc=desc, disable=quiet, file=sys.stderr, dynamic_ncols=True)
    try:
        train(bar)
    except KeyboardInterrupt:
        bar.close()
        print("interrupted", file=sys.stderr)
        return False
    finally:
        bar.close()
    return True


def _follow(events, recorders, bar, names: Optional[Sequence[str]] = None) -> None:
    """Feed every event to the recorder of its member (``recorders[event.member]``) and
    show progress: ``bar`` advances one step per training epoch; early stops and
    follow-up phases are written above it (prefixed with the member's name, if given)."""
    from .engine.events import EarlyStop, EpochEnd, PhaseStarted

    for event in events:
        member = getattr(event, "member", 0)
        recorders[member].add(event)
        who = f"{names[member]}: " if names else ""
        if isinstance(event, EpochEnd):
            if event.phase == "train":
                bar.update(1)
            post = {"loss": f"{event.train_loss:.4g}"}
            if event.val_loss is not None:
                post["val"] = f"{event.val_loss:.4g}"
            bar.set_postfix(post, refresh=False)
        elif isinstance(event, EarlyStop):
            bar.write(f"{who}early stop at epoch {event.stopped_epoch}: best {event.monitor} "
                      f"{event.best_value:.4g} at epoch {event.best_epoch}"
                      + (" (weights restored)" if event.restored else ""))
        elif isinstance(event, PhaseStarted):
            bar.write(f"{who}follow-up: {event.phase} on train+validation")


def _save(out: Path, spec, base_dir: Path, writer=None, **content) -> int:
    """Write ``spec`` with ``content`` (``result=`` or ``runs=, current=``) to ``out``
    (with ``writer``, a function like ``experiment_file.save``: the sweep's); weights too
    large for a file are left out with a warning.  0, or 2 after an error."""
    from .experiment_file import ExperimentFileError, WeightsTooLarge, save

    save = writer or save
    try:
        try:
            save(out, spec, base_dir=base_dir, **content)
        except WeightsTooLarge as exc:  # keep the run's results all the same
            print(f"warning: the {exc.n_params:,} trained weights are more than the {exc.limit:,} a file stores; "
                  f"{out} is saved without them", file=sys.stderr)
            save(out, spec, base_dir=base_dir, without_weights=True, **content)
    except ExperimentFileError as exc:
        return _fail(f"cannot write {out}: {exc.errors[0][1]}")
    except OSError as exc:
        return _fail(f"cannot write {out}: {exc.strerror or exc}")
    return 0


def _run_seeds(args, spec, specs, group, dataset, path: Path, out: Path) -> int:
    """Train ``specs`` (one per seed): as the lockstep ``group`` if there is one, else
    one after the other; record each with its own Recorder; write every run (one group,
    one colour) and print mean ± std over the seeds."""
    from .build import build_run
    from .history import Recorder
    from .spec import SavedRun

    seeds = [s.training.seed for s in specs]
    names = [f"seed {s}" for s in seeds]
    recorders = [Recorder(s) for s in specs]
    weights = []

    def train(bar) -> None:
        if group is not None:
            _follow(group.events(), recorders, bar, names)
            weights.extend(group.member_params(m).copy() for m in range(len(specs)))
            return
        for m, member_spec in enumerate(specs):
            run = build_run(member_spec, dataset, emit_batches=False)
            _follow(run.events(), [recorders[m]], bar, [names[m]])
            weights.append(run.network.params.copy())

    start = time.perf_counter()
    if not _with_progress(len(specs) * spec.training.epochs, args.quiet, train, f"{len(specs)} seeds"):
        return 130
    seconds = time.perf_counter() - start

    results = [rec.result(weights=None if args.no_weights else w) for rec, w in zip(recorders, weights)]
    label = f"seeds {seeds_text(seeds)}"
    runs = tuple(SavedRun(name=name, spec=s, result=r, group=label, color=0)
                 for name, s, r in zip(names, specs, results))
    failed = _save(out, spec, path.parent, runs=runs, current=0)
    if failed:
        return failed
    how = "in lockstep" if group is not None else "one after the other"
    print(seeds_summary(spec, seeds, results, f"{how} in {seconds:.2f} s", out))
    return 1 if any(r.status == "diverged" for r in results) else 0


#: The metrics of the seeds table: final ones from final_metrics, best ones from the history.
_FINAL = ("val_loss", "val_accuracy", "val_rmse", "val_r2", "test_accuracy", "test_rmse", "test_r2", "train_loss")
_AT_BEST = ("val_loss", "val_accuracy", "val_rmse", "val_r2")


def seeds_table(results) -> list[tuple[str, float, float, int]]:
    """``(label, mean, std, n)`` over the seeds' results (sample std, ddof = 1): the final
    validation loss and metric, the test metric, the final train loss, and -- when early
    stopping kept a best epoch -- the best epoch and the validation loss and metric at it."""
    from .compare import best_epoch, mean_std, reading

    rows = []
    for key in _FINAL:
        values = [r.final_metrics.get(key) for r in results]
        if any(v is not None for v in values):
            rows.append((f"final {key.replace('_', ' ')}", *mean_std(values)))
    if any(best_epoch(r) is not None for r in results):
        rows.append(("best epoch", *mean_std(best_epoch(r) for r in results)))
        for column in _AT_BEST:
            values = [reading(r, column, at="best") for r in results]
            if any(v is not None for v in values):
                rows.append((f"{column.replace('_', ' ')} at best epoch", *mean_std(values)))
    return rows


def seeds_summary(spec, seeds: Sequence[int], results, how: str, out: Path) -> str:
    """The lines the runner prints after ``--seeds``: what ran, then one aligned table of
    mean ± std (ddof = 1) over the seeds."""
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    done = ", ".join(f"{n} {status}" for status, n in statuses.items())
    lines = [f"{spec.name}: {len(seeds)} seeds ({seeds_text(seeds)}) {how}: {done}"]
    rows = seeds_table(results)
    width = max((len(label) for label, *_ in rows), default=0)
    lines.append(f"  {'':{width}}  {'mean':>12}  {'± std':>12}  {'n':>3}")
    for label, mean, std, n in rows:
        lines.append(f"  {label:{width}}  {_number(mean):>12}  {_number(std):>12}  {n:>3}")
    lines.append(f"results written to {out}")
    return "\n".join(lines)


def _number(x: float) -> str:
    return "-" if x != x else f"{x:.6g}"


def _schedule_warning(spec) -> str:
    """'' or why the planned η fades out (as the Schedule editor warns)."""
    from .build import planned_lr
    from .engine.schedules import fade_warning

    try:
        return fade_warning(planned_lr(spec), spec.optimizer.lr)
    except ValueError:
        return ""


def _cannot_write(out: Path) -> str:
    """Why ``out`` cannot be written ('' if it looks writable)."""
    import os

    from .experiment_file import write_problem

    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        return "it is a folder"
    if out.exists() and not out.is_file():
        return "it is not a regular file"
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"no permission to write in {folder}"
    return write_problem(out) or ""  # another user's symbolic link, a read-only file


def summary(spec, result, out: Path) -> str:
    """The final lines the runner prints."""
    lines = [f"{spec.name}: {result.status} after {len(result.history.get('epoch', ()))} epochs "
             f"in {result.wall_time:.2f} s"]
    if result.message:
        lines.append(result.message)
    if result.early_stop is not None:
        es = result.early_stop
        lines.append(f"best epoch {es.best_epoch} ({es.monitor} {es.best_value:.4g}), stopped at {es.stopped_epoch}")
    for split in ("train", "val", "test"):
        items = [(k[len(split) + 1:], v) for k, v in result.final_metrics.items() if k.startswith(split + "_")]
        if items:
            lines.append(f"  {split:5s} " + "  ".join(f"{k} {v:.4g}" for k, v in items if v is not None))
    lines.append(f"results written to {out}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    keep_freed_memory()  # a run's freed buffers serve the next run (see allocator)
    if argv and argv[0] == "run":
        return run_file(_run_parser().parse_args(argv[1:]))
    if argv and argv[0] == "lr-find":
        from .lr_find_cli import main as lr_find_main

        return lr_find_main(argv[1:])
    if argv and argv[0] == "sweep":
        from .sweep.cli import main as sweep_main

        return sweep_main(argv[1:])
    args = _gui_parser().parse_args(argv)
    from .ui.app import run_gui

    return run_gui(args.file)


if __name__ == "__main__":
    sys.exit(main())
