"""Turn an :class:`~workbench.spec.ExperimentSpec` and a loaded data set into engine objects.

The only place where spec names meet engine constructors, so that the engine knows
nothing of the spec and the spec nothing of the engine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from .engine.events import Event
from .engine.network import LayerConfig, Network
from .engine.optimizers import make_optimizer
from .engine.schedules import make_schedule
from .engine.stopping import EarlyStopping
from .engine.trainer import LiveSettings, TrainConfig, TrainData, train
from .spec import ExperimentSpec, ScheduleSpec, SpecError

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
#: Optimizer state vectors per kind when the engine cannot be asked (unknown kinds: 2).
_STATE_VECTORS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adadelta": 2, "adam": 2,
                  "adamw": 2, "nadam": 2}
_ADVICE = {
    "training.batch_size": "use a smaller batch or narrower layers",
    "architecture.layers": "use fewer or narrower layers",
    "data": "use fewer samples or features",
    "training.epochs": "use fewer epochs",
}


def _state_vectors(spec: ExperimentSpec) -> int:
    """How many parameter-sized state vectors the spec's optimizer keeps (adam 2,
    momentum 1, adadelta 2, sgd 0, ...): asked of the engine with a 1-parameter optimizer."""
    opt = spec.optimizer
    hyper = {f.name: getattr(opt, f.name) for f in dataclasses.fields(opt) if f.name not in ("kind", "lr")}
    try:
        return len(make_optimizer(opt.kind, 1, **hyper).buffers)
    except Exception:  # noqa: BLE001 - an engine that does not know a name: the table
        return _STATE_VECTORS.get(opt.kind, 2)


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


def schedule_kwargs(schedule: ScheduleSpec) -> dict:
    fields = {f.name: getattr(schedule, f.name) for f in dataclasses.fields(schedule)}
    fields.pop("kind")
    return fields


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


def build_run(spec: ExperimentSpec, dataset, *, emit_batches: bool = True) -> Run:
    """Build network, optimizer, schedule, early stopping and arrays for ``spec``
    (after :func:`check_fits`, which raises :class:`SpecError`)."""
    check_fits(spec, dataset)
    task, n_outputs = task_of(dataset)
    n_inputs = int(dataset.X_train.shape[1])
    net = make_network(spec, n_inputs, task, n_outputs)
    apply_target_scaling(net, dataset)
    opt_spec, reg = spec.optimizer, spec.regularization
    mask = np.ones(net.n_params, dtype=bool) if reg.penalize_biases else net.weight_mask
    optimizer = make_optimizer(
        opt_spec.kind,
        net.n_params,
        momentum=opt_spec.momentum,
        momentum_form=opt_spec.momentum_form,
        beta1=opt_spec.beta1,
        beta2=opt_spec.beta2,
        rho=opt_spec.rho,
        eps=opt_spec.eps,
        bias_correction=opt_spec.bias_correction,
        weight_decay=reg.weight_decay,
        decay_mask=mask,
    )
    epochs = spec.training.epochs
    schedule = make_schedule(spec.schedule.kind, opt_spec.lr, epochs, **schedule_kwargs(spec.schedule))
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
    return Run(spec, net, optimizer, schedule, stopping, data, config, LiveSettings(), task)
