"""The learning-rate range test for an experiment: spec + data set -> engine range tests.

:mod:`workbench.engine.lr_finder` knows networks and arrays only; this module builds,
for each of several seeds, the spec's network (its initial weights from that seed, as
:func:`workbench.build.build_run` makes them), optimizer and training arrays, and runs
the test with that seed's shuffling.  Seeds are ``training.seed, training.seed + 1, ...``
(modulo 2^32).  The spec's schedule, learning rate, epochs and early stopping play no
part; its optimizer kind and hyperparameters, batch size, coupled L1/L2 penalties,
decoupled weight decay, dropout and input noise do.

The seeds run as ONE lockstep group (:func:`workbench.engine.lr_finder.range_test_group`)
when :func:`group_plan` allows it, else one after the other (``range_test`` per seed);
either way each seed's curve is its solo test's (bit for bit here, see
``tests/engine/test_lr_finder_group.py``) and the items come in the same order -- seed
after seed, each seed's steps then its curve -- so a consumer cannot tell the two apart
but by the time between items (in a group the first seed's steps come as they are
computed, the later seeds' each in one burst when the seed before them is done).

Also :func:`write_csv` (the curve as CSV, for the command line and the window).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from pathlib import Path
from typing import Iterator, Union

from . import spec as specmod
from .build import build_run, count_parameters, lockstep_plan, task_of
from .engine.group_optimizer import ROWS_FROM
from .engine.lr_finder import (
    BETA,
    DIVERGE_FACTOR,
    RangeCurve,
    RangeStep,
    RangeTestResult,
    range_test,
    range_test_group,
    summarize,
)
from .limits import MAX_LR_FIND_SEEDS as MAX_SEEDS  # most seeds one range test may run
from .limits import MAX_LR_FIND_STEPS as MAX_STEPS  # most steps per seed (both bounds live in workbench.limits)
from .limits import MAX_SEED

MIN_STEPS = 10
"""Fewest steps per seed (suggestions need a curve)."""


def seeds_for(spec: specmod.ExperimentSpec, n_seeds: int) -> list[int]:
    """``training.seed + i`` (mod 2^32) for i = 0 .. n_seeds-1."""
    base = int(spec.training.seed)
    return [(base + i) % (MAX_SEED + 1) for i in range(int(n_seeds))]


def check_options(n_seeds, steps, lr_min, lr_max) -> None:
    """ValueError with one line naming the option when a value is out of range."""
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or not 1 <= n_seeds <= MAX_SEEDS:
        raise ValueError(f"seeds: must be an integer from 1 to {MAX_SEEDS}, got {n_seeds!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not MIN_STEPS <= steps <= MAX_STEPS:
        raise ValueError(f"steps: must be an integer from {MIN_STEPS} to {MAX_STEPS:,}, got {steps!r}")
    if not (isinstance(lr_min, (int, float)) and math.isfinite(lr_min) and lr_min > 0):
        raise ValueError(f"min: must be a finite number > 0, got {lr_min!r}")
    if not (isinstance(lr_max, (int, float)) and math.isfinite(lr_max) and lr_max > lr_min):
        raise ValueError(f"max: must be a finite number > min ({lr_min:g}), got {lr_max!r}")


def lr_find(
    spec: specmod.ExperimentSpec,
    dataset,
    *,
    seeds: int = 3,
    steps: int = 100,
    lr_min: float = 1e-6,
    lr_max: float = 10.0,
    beta: float = BETA,
    diverge_factor: float = DIVERGE_FACTOR,
) -> Iterator[Union[RangeStep, RangeCurve, RangeTestResult]]:
    """Run the range test for ``seeds`` seeds of ``spec`` on ``dataset``'s training split:
    yields each seed's :class:`RangeStep` events and :class:`RangeCurve`, then one
    :class:`RangeTestResult` (band and suggestions).  Raises ``ValueError`` (bad option)
    or ``SpecError`` (the spec does not fit the data) before the first item."""
    check_options(seeds, steps, lr_min, lr_max)

    def build(seed: int):
        training = specmod.replace(spec.training, "training", seed=seed)
        return seed, build_run(specmod.replace(spec, training=training), dataset, emit_batches=False)

    all_seeds = seeds_for(spec, seeds)
    first = build(all_seeds[0])  # checks that the spec fits the data: raised before the first item
    grouped, _ = group_plan(spec, dataset, seeds)
    if grouped:  # the group's memory was checked by lockstep_plan
        runs = [first] + [build(seed) for seed in all_seeds[1:]]
        return _run_group(runs, spec.training.batch_size, steps, lr_min, lr_max, beta, diverge_factor)
    # one after the other: each seed's network is built when its turn comes and dropped
    # after it, so the memory is one run's whatever the number of seeds
    runs = itertools.chain([first], (build(seed) for seed in all_seeds[1:]))
    return _run_all(runs, spec.training.batch_size, steps, lr_min, lr_max, beta, diverge_factor)


def group_plan(spec: specmod.ExperimentSpec, dataset, seeds: int) -> tuple[bool, str]:
    """Whether :func:`lr_find` runs its ``seeds`` seeds of ``spec`` as one lockstep group
    (True, "") or one after the other (False and why).  One after the other when there is
    one seed; when :func:`workbench.build.lockstep_plan` refuses the seeds' specs (with
    early stopping off: the range test plays none, so a follow-up phase is no obstacle;
    what remains is the memory budget of the whole group); or when a network has at least
    ``group_optimizer.ROWS_FROM`` parameters, where a lockstep group steps its members one
    after the other anyway and a stacked step was measured slower than solo steps
    (benchmarks/README.md, lockstep crossover).  Arithmetic only: nothing is built."""
    if seeds < 2:
        return False, "one seed: nothing to group"
    es = specmod.replace(spec.early_stopping, "early_stopping", enabled=False)
    specs = [specmod.replace(spec, early_stopping=es, training=specmod.replace(spec.training, "training", seed=s))
             for s in seeds_for(spec, seeds)]
    ok, why = lockstep_plan(specs, dataset)
    if not ok:
        return False, why
    n_params = count_parameters(spec, int(dataset.X_train.shape[1]), task_of(dataset)[1])
    if n_params >= ROWS_FROM:
        return False, (f"{n_params:,} parameters a network: from {ROWS_FROM:,} a lockstep group is no faster "
                       "than the seeds one after the other")
    return True, ""


def _run_all(runs, batch_size, steps, lr_min, lr_max, beta, factor):
    """The seeds one after the other: ``range_test`` on each seed's network."""
    curves = []
    for seed, run in runs:
        cfg = run.config
        for item in range_test(
            run.network, run.optimizer, run.data.X_train, run.data.y_train, batch_size, seed,
            lr_min=lr_min, lr_max=lr_max, steps=steps, beta=beta, diverge_factor=factor,
            l1=cfg.l1, l2=cfg.l2, penalty_mask=cfg.penalty_mask, input_noise=cfg.input_noise,
        ):
            if isinstance(item, RangeCurve):
                curves.append(item)
            yield item
        del run  # this seed's network and optimizer go before the next is built
    yield summarize(curves)


def _run_group(runs, batch_size, steps, lr_min, lr_max, beta, factor):
    """The seeds as one lockstep group (``range_test_group``, items in seed order)."""
    seeds = [seed for seed, _ in runs]
    nets = [run.network for _, run in runs]
    opts = [run.optimizer for _, run in runs]
    cfg, data = runs[0][1].config, runs[0][1].data  # the seeds share everything but the seed
    items = range_test_group(  # built (and checked) now, before the first item
        nets, opts, data.X_train, data.y_train, batch_size, seeds,
        lr_min=lr_min, lr_max=lr_max, steps=steps, beta=beta, diverge_factor=factor,
        l1=cfg.l1, l2=cfg.l2, penalty_mask=cfg.penalty_mask, input_noise=cfg.input_noise, order="member",
    )
    return _with_summary(items)


def _with_summary(items):
    curves = []
    try:
        for item in items:
            if isinstance(item, RangeCurve):
                curves.append(item)
            yield item
    finally:
        items.close()
    yield summarize(curves)


# -------------------------------------------------------------------------------------
def csv_text(result: RangeTestResult) -> str:
    """The curve as CSV: one row per grid step k (up to the longest curve) with columns
    ``lr``, ``loss_mean``, ``loss_std`` (the band: smoothed loss over the seeds, empty
    past the shortest curve) and ``seed<S>_loss``, ``seed<S>_smoothed`` for each seed S
    (raw and smoothed loss; empty after that seed's test stopped).  Numbers in repr
    form (round-trip exact)."""
    curves = result.curves
    longest = max(curves, key=lambda c: len(c.lrs))
    header = ["lr", "loss_mean", "loss_std"]
    for c in curves:
        header += [f"seed{c.seed}_loss", f"seed{c.seed}_smoothed"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    b = result.band
    for k in range(len(longest.lrs)):
        row = [repr(float(longest.lrs[k]))]
        row += [repr(float(b.mean[k])), repr(float(b.std[k]))] if k < len(b.lrs) else ["", ""]
        for c in curves:
            row += [repr(float(c.losses[k])), repr(float(c.smoothed[k]))] if k < len(c.lrs) else ["", ""]
        writer.writerow(row)
    return buf.getvalue()


def write_csv(path: Union[str, os.PathLike], result: RangeTestResult) -> None:
    """Write :func:`csv_text` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(csv_text(result))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def suggestion_lines(result: RangeTestResult) -> list[str]:
    """One line per suggestion: ``name  eta  explanation``."""
    return [f"{s.name:<11s} {s.lr:<10.3g} {s.explanation}" for s in result.suggestions]

