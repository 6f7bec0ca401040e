"""Command line: ``mlp-workbench [FILE]`` opens the window; ``mlp-workbench run FILE``
trains headless with the same trainer, shows a progress bar and writes the results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from . import spec as specmod

DESCRIPTION = """\
MLP Workbench: design, train and watch multilayer perceptrons.

  mlp-workbench [FILE]                       open the workbench window (with FILE, if given)
  mlp-workbench run FILE [--out RESULT.json] [--epochs N] [--seed N] [--quiet]
                                             train FILE's experiment headless and save its results
  mlp-workbench lr-find FILE [--seeds 3] [--steps 100] [--min 1e-6] [--max 10] [--out CURVE.csv]
                                             learning-rate range test: suggested learning rates and the curve

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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-weights", action="store_true", help="do not store the trained weights in the output")
    return p


def _fail(message: str, code: int = 2) -> int:
    print(f"mlp-workbench: error: {message}", file=sys.stderr)
    return code


def run_file(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .build import build_run
    from .data import DataError, load_dataset
    from .engine.events import EarlyStop, EpochEnd, Finished, PhaseStarted
    from .experiment_file import ExperimentFileError, WeightsTooLarge, load, save
    from .history import Recorder

    path = Path(args.file)
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
        run = build_run(spec, dataset, emit_batches=False)
    except (ExperimentFileError, specmod.SpecError, DataError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror or exc}")
    out = Path(args.out) if args.out else Path(f"{path.stem}.result.json")
    problem = _cannot_write(out)
    if problem:  # found out before training, not after
        return _fail(f"cannot write {out}: {problem}")
    for warning in getattr(dataset, "warnings", ()):
        print(f"warning: {warning}", file=sys.stderr)

    recorder = Recorder(spec)
    bar = tqdm(total=spec.training.epochs, unit="epoch", disable=args.quiet, file=sys.stderr, dynamic_ncols=True)
    try:
        for event in run.events():
            recorder.add(event)
            if isinstance(event, EpochEnd):
                if event.phase == "train":
                    bar.update(1)
                post = {"loss": f"{event.train_loss:.4g}"}
                if event.val_loss is not None:
                    post["val"] = f"{event.val_loss:.4g}"
                bar.set_postfix(post, refresh=False)
            elif isinstance(event, EarlyStop):
                bar.write(f"early stop at epoch {event.stopped_epoch}: best {event.monitor} "
                          f"{event.best_value:.4g} at epoch {event.best_epoch}"
                          + (" (weights restored)" if event.restored else ""))
            elif isinstance(event, PhaseStarted):
                bar.write(f"follow-up: {event.phase} on train+validation")
            elif isinstance(event, Finished):
                pass
    except KeyboardInterrupt:
        bar.close()
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        bar.close()

    result = recorder.result(weights=None if args.no_weights else run.network.params)
    try:
        try:
            save(out, spec, result, base_dir=path.parent)
        except WeightsTooLarge as exc:  # keep the run's results all the same
            print(f"warning: the {exc.n_params:,} trained weights are more than the {exc.limit:,} a file stores; "
                  f"{out} is saved without them", file=sys.stderr)
            save(out, spec, result, base_dir=path.parent, without_weights=True)
    except ExperimentFileError as exc:
        return _fail(f"cannot write {out}: {exc.errors[0][1]}")
    except OSError as exc:
        return _fail(f"cannot write {out}: {exc.strerror or exc}")
    print(summary(spec, result, out))
    return 0 if result.status != "diverged" else 1


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
    if argv and argv[0] == "run":
        return run_file(_run_parser().parse_args(argv[1:]))
    if argv and argv[0] == "lr-find":
        from .lr_find_cli import main as lr_find_main

        return lr_find_main(argv[1:])
    args = _gui_parser().parse_args(argv)
    from .ui.app import run_gui

    return run_gui(args.file)


if __name__ == "__main__":
    sys.exit(main())
