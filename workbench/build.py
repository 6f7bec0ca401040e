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

from .limits import MAX_PARAMETERS  # noqa: E402,F401  (the bound lives in workbench.limits)

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


def check_fits(spec: ExperimentSpec, dataset) -> None:
    """Raise :class:`SpecError` (naming the field) when ``spec`` cannot train on
    ``dataset``: a network over :data:`MAX_PARAMETERS`, an early-stopping monitor the
    task does not have, or a validation monitor without a validation split."""
    task, n_outputs = task_of(dataset)
    errors: list[tuple[str, str]] = []
    n_params = count_parameters(spec, int(dataset.X_train.shape[1]), n_outputs)
    if n_params > MAX_PARAMETERS:
        errors.append(("architecture", f"{n_params:,} parameters is more than the {MAX_PARAMETERS:,} this "
                                       "workbench trains; use fewer or narrower layers"))
    has_val = dataset.X_val is not None and len(dataset.X_val) > 0
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
