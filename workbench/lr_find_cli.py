"""``mlp-workbench lr-find FILE``: the learning-rate range test from the command line.

Runs :func:`workbench.lr_find.lr_find` on the experiment's training split for a few
seeds with a progress bar, prints the suggested learning rates (one line each: name,
eta, explanation) and writes the curve as CSV (columns ``lr, loss_mean, loss_std`` and
per seed ``seed<S>_loss, seed<S>_smoothed``).  Invalid input exits with status 2 and one
line, as ``run`` does; 1 when no suggestion could be made (the loss diverged at once).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Optional, Sequence

from . import spec as specmod

DEFAULTS = {"seeds": 3, "steps": 100, "min": 1e-6, "max": 10.0}


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (``mlp-workbench: error: ...``), status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"mlp-workbench: error: lr-find: {message}", file=sys.stderr)
        raise SystemExit(2)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="mlp-workbench lr-find",
        description="Learning-rate range test: train briefly while η grows exponentially from --min to --max, "
                    "for several seeds; print suggested learning rates and write the loss curve as CSV.  "
                    "The file's network, optimizer, batch size and regularization are used; its learning rate, "
                    "schedule and epochs are not.",
    )
    p.add_argument("file", help="experiment file (.json)")
    p.add_argument("--seeds", type=int, default=DEFAULTS["seeds"],
                   help="number of seeds, each with its own initial weights and shuffling (default 3)")
    p.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="mini-batch steps per seed (default 100)")
    p.add_argument("--min", type=float, default=DEFAULTS["min"], dest="lr_min", help="first η (default 1e-6)")
    p.add_argument("--max", type=float, default=DEFAULTS["max"], dest="lr_max", help="last η (default 10)")
    p.add_argument("--out", help="CSV file for the curve (default: FILE-STEM.lr_find.csv here)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _fail(message: str, code: int = 2) -> int:
    print(f"mlp-workbench: error: {message}", file=sys.stderr)
    return code


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = parser().parse_args(list(sys.argv[2:] if argv is None else argv))
    except SystemExit as exc:  # --help (0) or a one-line usage error (2)
        return int(exc.code or 0)
    return lr_find_file(args)


def lr_find_file(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .cli import _cannot_write
    from .data import DataError, load_dataset
    from .engine.lr_finder import RangeCurve, RangeStep, RangeTestResult
    from .experiment_file import ExperimentFileError, load
    from .lr_find import check_options, lr_find, suggestion_lines, write_csv

    try:
        check_options(args.seeds, args.steps, args.lr_min, args.lr_max)
    except ValueError as exc:
        return _fail(f"--{exc}")
    path = Path(args.file)
    try:
        spec = load(path).spec
        dataset = load_dataset(spec.data, base_dir=path.parent)
        events = lr_find(spec, dataset, seeds=args.seeds, steps=args.steps, lr_min=args.lr_min, lr_max=args.lr_max)
    except (ExperimentFileError, specmod.SpecError, DataError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror or exc}")
    out = Path(args.out) if args.out else Path(f"{path.stem}.lr_find.csv")
    problem = _cannot_write(out)
    if problem:
        return _fail(f"cannot write {out}: {problem}")
    for warning in getattr(dataset, "warnings", ()):
        print(f"warning: {warning}", file=sys.stderr)

    total = args.seeds * args.steps
    bar = tqdm(total=total, unit="step", disable=args.quiet, file=sys.stderr, dynamic_ncols=True)
    result = None
    try:
        for item in events:
            if isinstance(item, RangeStep):
                bar.update(1)
                bar.set_postfix({"seed": item.seed, "η": f"{item.lr:.2g}", "loss": f"{item.smoothed:.4g}"},
                                refresh=False)
            elif isinstance(item, RangeCurve):
                left = item.steps - len(item.lrs)
                if left:
                    bar.update(left)
                if item.stopped_reason:
                    bar.write(f"seed {item.seed}: {item.stopped_reason}", file=sys.stderr)
            elif isinstance(item, RangeTestResult):
                result = item
    except KeyboardInterrupt:
        bar.close()
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        bar.close()

    try:
        write_csv(out, result)
    except OSError as exc:
        return _fail(f"cannot write {out}: {exc.strerror or exc}")
    opt = spec.optimizer
    print(f"{spec.name}: learning-rate range test, {opt.kind}, batch size {spec.training.batch_size}, "
          f"η from {args.lr_min:g} to {args.lr_max:g} in {args.steps} steps, {args.seeds} seed"
          f"{'s' if args.seeds != 1 else ''} ({', '.join(str(c.seed) for c in result.curves)})")
    if not result.suggestions:
        print(f"no suggestion: the curve has {len(result.band.lrs)} point(s); lower --min")
        print(f"curve written to {out}")
        return 1
    for line in suggestion_lines(result):
        print(line)
    if not any(c.stopped_reason for c in result.curves):
        print(f"note: the loss did not diverge up to η = {args.lr_max:g}; a larger --max shows where it does")
    print(f"curve written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
