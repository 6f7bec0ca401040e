"""Turn an :class:`~workbench.spec.ExperimentSpec` and a loaded data set into engine objects.

The only place where spec names meet engine constructors, so that the engine knows
nothing of the spec and the spec nothing of the engine.

Why this module is long: everything in it translates a spec into engine terms -- building a
run or a lockstep group, estimating the memory a run's arrays will need (which mirrors the
engine's buffers) and deciding which specs may share one group.  The memory estimate and the
lockstep part (its rules and :func:`build_group`) are about a quarter of it each and could
become modules of their own if they grow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from .engine.events import Event
from .engine.network import LayerConfig, Network
from .engine.optimizers import HYPERPARAMETERS, make_optimizer
from .engine.schedules import SETTINGS as SCHEDULE_SETTINGS, make_schedule
from .engine.stopping import EarlyStopping
from .engine.trainer import LiveSettings, TrainConfig, TrainData, train
from .spec import ExperimentSpec, OptimizerSpec, ScheduleSpec, SpecError

from .limits import MAX_PARAMETERS, MAX_RUN_MEMORY  # noqa: E402,F401  (the bounds live in workbench.limits)
from .engine.network import EVAL_CHUNK  # noqa: E402
from .engine.optimizers import CHUNK as OPTIMIZER_CHUNK  # noqa: E402
from .engine import network as _network  # noqa: E402

_MAX_CACHED_BATCH_SIZES = getattr(_network, "_MAX_CACHED_BATCH_SIZES", 8)

#: The early-stopping monitors that exist for each task.
MONITORS = {
    "binary": ("val_loss", "val_accuracy"),
    "multiclass": ("val_loss", "val_accuracy"),
    "regression": ("val_loss", "val_rmse", "val_r2"),
}


def task_of(dataset) -> tuple[str, int]:
    """The network's task and output width for a data set: binary classification has one
    sigmoid output, k > 2 classes k softmax outputs, regression one linear output per target."""
    if dataset.task == "regression":
        width = 1 if dataset.y_train.ndim == 1 else int(dataset.y_train.shape[1])
        return "regression", width
    if int(dataset.n_classes) <= 2:
        return "binary", 1
    return "multiclass", int(dataset.n_classes)


def count_parameters(spec: ExperimentSpec, n_inputs: int, n_outputs: int) -> int:
    """Σ over dense layers of fan_in·fan_out + fan_out (weights and biases)."""
    sizes = [int(n_inputs)] + [layer.units for layer in spec.architecture.layers] + [int(n_outputs)]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


# ---------------------------------------------------------------------------
# Memory: what a run's arrays need, estimated before any is allocated.

#: Bytes the history keeps per epoch and phase (the recorder's EpochEnd, about 520 bytes,
#: its columns and the curves' copies).
HISTORY_ROW_BYTES = 1024
#: Largest temporary per parameter: the L1/L2 penalty's float64 copy and its |w| (16 bytes;
#: l1/l2 can be switched on mid-run), or encoding and saving the weights (4 + 3 x 16/3).
PARAMETER_TEMP_BYTES = 16
_ADVICE = {
    "training.batch_size": "use a smaller batch or narrower layers",
    "architecture.layers": "use fewer or narrower layers",
    "data": "use fewer samples or features",
    "training.epochs": "use fewer epochs",
}


def _state_vectors(spec: ExperimentSpec) -> int:
    """How many parameter-sized state vectors the spec's optimizer keeps (adam 2,
    momentum 1, adadelta 2, sgd 0, ...): the registry's rule built for one parameter
    (the spec admits only registered kinds and valid hyperparameters)."""
    return len(make_optimizer(spec.optimizer.kind, 1, **optimizer_kwargs(spec.optimizer)).buffers)


def memory_parts(spec: ExperimentSpec, n_inputs: int, n_outputs: int, n_train: int, n_val: int,
                 n_test: int) -> dict[str, int]:
    """Bytes a run of ``spec`` needs, by the field that drives them (``training.batch_size``,
    ``architecture.layers``, ``data``, ``training.epochs``); see :func:`estimate_memory`."""
    f = 4  # float32
    sizes = [int(n_inputs)] + [layer.units for layer in spec.architecture.layers] + [int(n_outputs)]
    hidden = sizes[1:-1]
    P = count_parameters(spec, n_inputs, n_outputs)
    reg, es, batch = spec.regularization, spec.early_stopping, spec.training.batch_size
    rates = [spec.architecture.input_dropout] + [layer.dropout for layer in spec.architecture.layers]
    dropped = sum(width for width, p in zip(sizes, rates) if p > 0.0)  # widths of the dropout positions
    K, d = int(n_outputs), int(n_inputs)
    y_row = 8 + 4 * K  # the data set's targets and the engine's copy of them
    followup = es.enabled and es.followup != "none" and n_val > 0
    n_tv = n_train + n_val

    # network buffers per batch size (engine.network._Buffers): H and G for every layer,
    # S per hidden layer, D and M at each dropout position; the loss' temporaries (2K)
    train_row = f * (2 * sum(sizes[1:]) + sum(hidden) + 2 * dropped + 2 * K)
    eval_row = f * (sum(sizes[1:]) + 2 * K) + 8
    if dropped and reg.dropout_test_method in ("classic", "mc"):
        eval_row += f * dropped
    if dropped and reg.dropout_test_method == "mc":
        eval_row += f * dropped + 8 * reg.mc_samples
    entries: dict[int, tuple[int, str]] = {}

    def add(rows: int, row_bytes: int, field: str) -> None:
        if rows > 0 and rows * row_bytes > entries.get(rows, (0, ""))[0]:
            entries[rows] = (rows * row_bytes, field)

    phases = [n_train] + ([n_tv] if followup else [])
    for n in phases:  # training: full batches and the last, shorter one
        b = min(batch, n)
        add(b, train_row, "training.batch_size")
        add(n % b, train_row, "training.batch_size")
    for n in [n_train, n_val, n_test] + ([n_tv] if followup else []):  # evaluation in chunks of EVAL_CHUNK rows
        add(min(n, EVAL_CHUNK), eval_row, "architecture.layers")
        add(n % EVAL_CHUNK if n > EVAL_CHUNK else 0, eval_row, "architecture.layers")
    parts = {"training.batch_size": 0, "architecture.layers": 0, "data": 0, "training.epochs": 0}
    # the network keeps at most _MAX_CACHED_BATCH_SIZES of them
    for nbytes, field in sorted(entries.values(), reverse=True)[:_MAX_CACHED_BATCH_SIZES]:
        parts[field] += nbytes
    b = min(batch, max(phases))
    parts["training.batch_size"] += b * (d * f + y_row)  # the batch copied out of the data
    if reg.input_noise > 0.0:
        parts["training.batch_size"] += b * d * (8 + 8 + f)  # float64 noise, scaled, cast

    # parameter-sized vectors: parameters, gradients, the initial copy (follow-up), the
    # optimizer's state, early stopping's best copy, bool masks; the largest temporary
    vectors = 3 + _state_vectors(spec) + (1 if es.enabled else 0)
    masks = 2 + (1 if reg.penalize_biases else 0)  # weight mask, the optimizer's copy, all-ones
    scratch = 3 * min(P, OPTIMIZER_CHUNK) * f
    parts["architecture.layers"] += P * (vectors * f + masks + PARAMETER_TEMP_BYTES) + scratch

    # the data set (float32 features), its split order, the follow-up's train+val copy
    rows = n_train + n_val + n_test
    parts["data"] += rows * (d * f + y_row) + 8 * max(n_train, n_tv if followup else 0)
    if followup:
        parts["data"] += n_tv * (d * f + y_row)
    parts["training.epochs"] += spec.training.epochs * (2 if followup else 1) * HISTORY_ROW_BYTES
    return parts


def estimate_memory(spec: ExperimentSpec, n_inputs: int, n_outputs: int, n_train: int, n_val: int,
                    n_test: int) -> int:
    """Bytes of the arrays a run of ``spec`` needs on a data set with ``n_inputs``
    features, ``n_outputs`` network outputs and the given split sizes (float32): the
    parameters, gradients, the optimizer's state (adam/adamw/nadam/adadelta 2 vectors,
    momentum/nesterov/adagrad/rmsprop 1, sgd 0), early stopping's best copy, the
    trainer's initial copy, the masks, the largest temporary (``PARAMETER_TEMP_BYTES``
    a parameter); the network's activation, delta, scratch and dropout buffers for each
    batch size the run uses (training batches, the last shorter batch, evaluation chunks
    of ``EVAL_CHUNK`` rows; at most ``_MAX_CACHED_BATCH_SIZES`` kept); the data arrays
    and the history.  Not included: the interpreter, NumPy, Qt (a few hundred MB).
    Arithmetic only: nothing is allocated."""
    return sum(memory_parts(spec, n_inputs, n_outputs, n_train, n_val, n_test).values())


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:.1f} GiB"


def check_fits(spec: ExperimentSpec, dataset) -> None:
    """Raise :class:`SpecError` (naming the field) when ``spec`` cannot train on
    ``dataset``: a network over :data:`MAX_PARAMETERS`, a run whose arrays would need
    more than :data:`MAX_RUN_MEMORY` (:func:`estimate_memory`; the field named is the one
    driving most of it), an early-stopping monitor the task does not have, or a
    validation monitor without a validation split.  Arithmetic only: nothing is allocated."""
    task, n_outputs = task_of(dataset)
    errors: list[tuple[str, str]] = []
    n_inputs = int(dataset.X_train.shape[1])
    n_params = count_parameters(spec, n_inputs, n_outputs)
    has_val = dataset.X_val is not None and len(dataset.X_val) > 0
    if n_params > MAX_PARAMETERS:
        errors.append(("architecture", f"{n_params:,} parameters is more than the {MAX_PARAMETERS:,} this "
                                       "workbench trains; use fewer or narrower layers"))
    else:
        n_val = len(dataset.X_val) if has_val else 0
        n_test = len(dataset.X_test) if dataset.X_test is not None else 0
        parts = memory_parts(spec, n_inputs, n_outputs, len(dataset.X_train), n_val, n_test)
        need = sum(parts.values())
        if need > MAX_RUN_MEMORY:
            field = max(parts, key=parts.get)
            errors.append((field, f"the run would need {_gib(need)}, more than the {MAX_RUN_MEMORY / 2**30:g} GiB "
                                  f"budget; {_ADVICE[field]}"))
    es = spec.early_stopping
    if es.enabled and es.monitor not in MONITORS[task]:
        kind = "regression" if task == "regression" else "classification"
        errors.append(("early_stopping.monitor", f"{es.monitor} is not measured for {kind} data; "
                                                 f"use {' or '.join(MONITORS[task])}"))
    elif es.enabled and not has_val:
        errors.append(("early_stopping.enabled", "early stopping watches the validation split, which is empty: "
                                                 "set data.val_fraction > 0"))
    if spec.schedule.kind == "plateau" and spec.schedule.monitor == "val_loss" and not has_val:
        errors.append(("schedule.monitor", "reduce-on-plateau watches val_loss but the validation split is "
                                           "empty: set data.val_fraction > 0 or monitor train_loss"))
    if errors:
        raise SpecError(errors)


def output_label(task: str) -> str:
    """How the output layer and loss are shown to the user."""
    return {
        "binary": "sigmoid + binary cross-entropy",
        "multiclass": "softmax + cross-entropy",
        "regression": "linear + mean squared error",
    }[task]


def _targets(y: Optional[np.ndarray], task: str) -> Optional[np.ndarray]:
    if y is None:
        return None
    if task == "binary":
        return np.asarray(y, dtype=np.float32).reshape(-1)
    if task == "multiclass":
        return np.asarray(y, dtype=np.int64).reshape(-1)
    y = np.asarray(y, dtype=np.float32)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def training_targets(dataset) -> np.ndarray:
    """The training split's targets as the network takes them (class indices, a column of
    0/1 for binary classification, regression values)."""
    return _targets(dataset.y_train, task_of(dataset)[0])


def apply_target_scaling(net: Network, dataset) -> None:
    """Regression with ``data.standardize_targets``: the network trains on targets
    standardised with the training split's mean ``m`` and std ``s`` per output
    (``dataset.target_scaler``) and reports in the targets' units, ``yhat = m + s z``
    (:meth:`Network.set_target_scaling`).  A network rebuilt from saved weights needs
    this too: the weights are those of the standardised problem."""
    scaler = getattr(dataset, "target_scaler", None)
    if scaler is not None and net.task == "regression":
        net.set_target_scaling(scaler.offset, scaler.scale)


def make_network(spec: ExperimentSpec, n_inputs: int, task: str, n_outputs: int, dtype=np.float32) -> Network:
    """The spec's network, initialised from the seed (the first of the seed's streams)."""
    arch, reg = spec.architecture, spec.regularization
    hidden = [LayerConfig(l.units, l.activation, l.dropout, l.init) for l in arch.layers]
    net = Network(
        n_inputs,
        hidden,
        n_outputs,
        task,
        input_dropout=arch.input_dropout,
        output_init=arch.output_init,
        dropout_method=reg.dropout_test_method,
        mc_samples=reg.mc_samples,
        dtype=dtype,
        seed=spec.training.seed,
    )
    init_seq = np.random.SeedSequence([spec.training.seed, 1])
    net.initialize(np.random.default_rng(init_seq))
    return net


def network_with(spec: ExperimentSpec, dataset, params: np.ndarray) -> Optional[Network]:
    """The network of ``spec`` for ``dataset`` holding the flat parameter vector ``params``
    (saved weights, a timeline snapshot), or None when they do not fit it (checked before
    anything is built)."""
    task, n_out = task_of(dataset)
    n_in = int(dataset.X_train.shape[1])
    if params.size != count_parameters(spec, n_in, n_out):
        return None
    net = make_network(spec, n_in, task, n_out)
    apply_target_scaling(net, dataset)  # the weights are those of the standardised problem
    net.params[:] = params
    return net


def schedule_kwargs(schedule: ScheduleSpec) -> dict:
    """Every ScheduleSpec field but ``kind``: the keyword arguments of ``make_schedule``."""
    return {name: getattr(schedule, name) for name in SCHEDULE_SETTINGS}


def optimizer_kwargs(optimizer: OptimizerSpec) -> dict:
    """Every hyperparameter of the OptimizerSpec but ``lr`` (given per step): the keyword
    arguments of ``make_optimizer``."""
    return {name: getattr(optimizer, name) for name in HYPERPARAMETERS if name != "lr"}


def make_spec_schedule(spec: ExperimentSpec):
    """The engine schedule of ``spec`` (base rate eta = optimizer.lr over its epochs)."""
    return make_schedule(spec.schedule.kind, spec.optimizer.lr, spec.training.epochs, **schedule_kwargs(spec.schedule))


def schedule_preview(schedule: ScheduleSpec, lr: float, epochs: int) -> np.ndarray:
    """The learning rate of every epoch (epoch 1 first) of ``schedule`` with base rate
    ``lr`` over ``epochs`` (plateau: its base line, since its drops depend on the losses).
    Raises ValueError when the schedule cannot be built."""
    return make_schedule(schedule.kind, lr, epochs, **schedule_kwargs(schedule)).preview(epochs)


def planned_lr(spec: ExperimentSpec) -> np.ndarray:
    """The learning rate planned for every epoch of ``spec``: the one function of the spec
    that the curves' plan and the Schedule editor's preview both draw."""
    return schedule_preview(spec.schedule, spec.optimizer.lr, spec.training.epochs)


@dataclass
class Run:
    """Everything one training run needs; ``events()`` is the engine's trainer."""

    spec: ExperimentSpec
    network: Network
    optimizer: object
    schedule: object
    stopping: Optional[EarlyStopping]
    data: TrainData
    config: TrainConfig
    live: LiveSettings
    task: str

    def events(self) -> Iterator[Event]:
        return train(self.network, self.optimizer, self.schedule, self.data, self.config, self.stopping, self.live)


def build_run(spec: ExperimentSpec, dataset, *, emit_batches: bool = True, live: Optional[LiveSettings] = None) -> Run:
    """Build network, optimizer, schedule, early stopping and arrays for ``spec``
    (after :func:`check_fits`, which raises :class:`SpecError`).  ``live``: the channel
    through which another thread changes settings mid-run (a new one if None)."""
    check_fits(spec, dataset)
    task, n_outputs = task_of(dataset)
    n_inputs = int(dataset.X_train.shape[1])
    net = make_network(spec, n_inputs, task, n_outputs)
    apply_target_scaling(net, dataset)
    opt_spec, reg = spec.optimizer, spec.regularization
    mask = np.ones(net.n_params, dtype=bool) if reg.penalize_biases else net.weight_mask
    optimizer = make_optimizer(opt_spec.kind, net.n_params, weight_decay=reg.weight_decay, decay_mask=mask,
                               **optimizer_kwargs(opt_spec))
    epochs = spec.training.epochs
    schedule = make_spec_schedule(spec)
    es = spec.early_stopping
    stopping = None
    if es.enabled:
        stopping = EarlyStopping(
            monitor=es.monitor,
            mode=es.mode,
            patience=es.patience,
            min_delta=es.min_delta,
            start_epoch=es.start_epoch,
            restore_best=es.restore_best,
        )
    data = TrainData(
        X_train=dataset.X_train,
        y_train=_targets(dataset.y_train, task),
        X_val=dataset.X_val,
        y_val=_targets(dataset.y_val, task),
        X_test=dataset.X_test,
        y_test=_targets(dataset.y_test, task),
    )
    config = TrainConfig(
        epochs=epochs,
        batch_size=spec.training.batch_size,
        seed=spec.training.seed,
        l1=reg.l1,
        l2=reg.l2,
        penalty_mask=mask,
        input_noise=reg.input_noise,
        plateau_monitor=spec.schedule.monitor,
        followup=es.followup if es.enabled else "none",
        emit_batches=emit_batches,
    )
    return Run(spec, net, optimizer, schedule, stopping, data, config, live if live is not None else LiveSettings(), task)


# ---------------------------------------------------------------------------
# Lockstep groups: several runs of one network trained together as one stacked network
# (workbench.engine.lockstep).  Members may differ in everything the engine can vectorise:
# seed, epochs, learning rate and schedule, the optimizer's float hyperparameters, L1/L2,
# weight decay, dropout rates, input noise, initialisers and early stopping.

from .engine.lockstep import StackedNetwork  # noqa: E402
from .engine.optimizers import GroupOptimizer, optimizer_class  # noqa: E402
from .engine.trainer import train_group  # noqa: E402


def lockstep_key(spec: ExperimentSpec) -> tuple:
    """What runs must share to train in lockstep, as ``(field, value)`` pairs: the data,
    the layers' widths and activations, the optimizer rule and its choices, whether biases
    are penalised, the test-time dropout method (and MC samples), the batch size.  Runs
    with equal keys (and no early-stopping follow-up) can be one group."""
    arch, opt, reg = spec.architecture, spec.optimizer, spec.regularization
    choices = tuple(
        (f"optimizer.{name}", getattr(opt, name)) for name in optimizer_class(opt.kind).uses
        if name != "lr" and HYPERPARAMETERS[name].kind in ("bool", "choice")
    )
    mc = (("regularization.mc_samples", reg.mc_samples),) if reg.dropout_test_method == "mc" else ()
    return (
        ("data", spec.data),
        ("architecture.layers", tuple((layer.units, layer.activation) for layer in arch.layers)),
        ("optimizer.kind", opt.kind),
        *choices,
        ("regularization.penalize_biases", reg.penalize_biases),
        ("regularization.dropout_test_method", reg.dropout_test_method),
        *mc,
        ("training.batch_size", spec.training.batch_size),
    )


def _shown(field: str, value) -> str:
    if field == "architecture.layers":
        return "(" + ", ".join(f"{units} {act}" for units, act in value) + ")" if value else "(no hidden layer)"
    return repr(value)


def can_lockstep(specs) -> tuple[bool, str]:
    """Whether ``specs`` can train as one lockstep group, and if not why (naming the
    field and the two runs that differ), e.g. ``optimizer.kind differs: run 0 has 'adam',
    run 2 has 'sgd'``."""
    specs = list(specs)
    if not specs:
        return False, "no runs to group"
    for i, spec in enumerate(specs):
        es = spec.early_stopping
        if es.enabled and es.followup != "none":
            return False, (f"run {i}: early_stopping.followup is {es.followup!r}; follow-up phases are not "
                           "run in lockstep")
    first = lockstep_key(specs[0])
    for i, spec in enumerate(specs[1:], start=1):
        key = lockstep_key(spec)
        if key == first:
            continue
        mine = dict(key)
        for field, value in first:
            other = mine.get(field, None)
            if field not in mine or other != value:
                if field == "data":
                    return False, f"data differs: run {i} trains on another data set than run 0 (a group shares one)"
                if field not in mine:
                    return False, f"{field} differs: run 0 has {_shown(field, value)}, run {i} does not use it"
                return False, f"{field} differs: run 0 has {_shown(field, value)}, run {i} has {_shown(field, other)}"
        extra = [field for field, _ in key if field not in dict(first)]
        return False, f"{extra[0]} differs: run {i} uses it, run 0 does not"
    return True, ""


def group_fits(specs, dataset) -> bool:
    """Whether ``specs`` fit the memory budget of one run (MAX_RUN_MEMORY) together, as a
    lockstep group keeps them: the sum of :func:`estimate_memory` (which counts the data
    set once per run, so this errs on the safe side)."""
    splits = [0 if X is None else len(X) for X in (dataset.X_train, dataset.X_val, dataset.X_test)]
    n_in, n_out = int(dataset.X_train.shape[1]), task_of(dataset)[1]
    return sum(estimate_memory(spec, n_in, n_out, *splits) for spec in specs) <= MAX_RUN_MEMORY


def lockstep_plan(specs, dataset) -> tuple[bool, str]:
    """Whether ``specs`` train as one lockstep group on ``dataset`` (else one after the
    other), and why not: :func:`can_lockstep`, then :func:`group_fits`."""
    specs = list(specs)
    ok, why = can_lockstep(specs)
    if ok and not group_fits(specs, dataset):
        return False, f"{len(specs)} runs together would need more than the memory budget"
    return ok, why


@dataclass
class GroupRun:
    """Runs trained in lockstep: ``events()`` is the engine's group generator
    (:func:`~workbench.engine.trainer.train_group`), each event's ``member`` the index of
    its run in ``specs``.  Member m's initial weights, optimizer, schedule, early stopping,
    arrays and config are exactly those :func:`build_run` builds for ``specs[m]``;
    ``lives[m]`` changes its settings mid-run.  Record member m with its own
    ``history.Recorder(specs[m])`` fed the events whose ``member == m``."""

    specs: tuple
    network: StackedNetwork
    optimizer: GroupOptimizer
    schedules: list
    stoppings: list
    data: TrainData
    configs: list
    lives: list
    task: str

    def events(self) -> Iterator[Event]:
        return train_group(self.network, self.optimizer, self.schedules, self.data, self.configs, self.stoppings,
                           self.lives)

    def member_network(self, member: int) -> Network:
        """A solo network with member ``member``'s configuration and current weights."""
        return self.network.to_network(member)

    def member_params(self, member: int) -> np.ndarray:
        """Member ``member``'s weights: a view of its block of the group's buffer."""
        return self.network.member_params(member)


def build_group(specs, dataset, *, emit_batches: bool = False, lives=None) -> GroupRun:
    """Build ``specs`` as one lockstep group on ``dataset`` (ValueError with
    :func:`can_lockstep`'s reason when they cannot be one; :class:`SpecError` from
    :func:`check_fits` for a run that cannot train).  Each member is built by
    :func:`build_run` -- so it starts exactly where its solo run starts -- and the members
    are then stacked.  ``emit_batches``: a BatchEnd per member per batch (off by default:
    N times a solo run's events); ``lives``: the members' live settings (default: new)."""
    specs = tuple(specs)
    ok, reason = can_lockstep(specs)
    if not ok:
        raise ValueError(reason)
    lives = list(lives) if lives is not None else [None] * len(specs)
    runs = [build_run(spec, dataset, emit_batches=emit_batches, live=live) for spec, live in zip(specs, lives)]
    return GroupRun(
        specs=specs,
        network=StackedNetwork([run.network for run in runs]),
        optimizer=GroupOptimizer.from_optimizers([run.optimizer for run in runs]),
        schedules=[run.schedule for run in runs],
        stoppings=[run.stopping for run in runs],
        data=runs[0].data,
        configs=[run.config for run in runs],
        lives=[run.live for run in runs],
        task=runs[0].task,
    )
