"""The experiment as plain data.

Every part of an experiment is a frozen dataclass; the whole experiment is an
:class:`ExperimentSpec`.  The classes are *pydantic* dataclasses, so constructing
one (directly, through :func:`dataclasses.replace`, or from JSON) validates every
field and bounds every size.  A hostile or malformed value raises
:class:`SpecError`, whose messages name the dotted path and the bad value::

    optimizer.lr: must be > 0, got -0.1

The spec knows no widgets and no engine objects.  ``workbench.build`` turns a
spec into engine objects; ``workbench.experiment_file`` reads and writes it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any, Literal, Optional, get_args

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from .engine.optimizers import HYPERPARAMETERS, OPTIMIZERS as _OPTIMIZER_NAMES, optimizer_class
from .engine.schedules import SCHEDULES as _SCHEDULE_NAMES, SETTINGS as SCHEDULE_SETTINGS
from .engine.setting import Setting

# ---------------------------------------------------------------------------
# Bounds: a file may ask for at most this much work or memory (see workbench.limits).
from .limits import MAX_BATCH, MAX_EPOCHS, MAX_HISTORY, MAX_LAYERS, MAX_SAMPLES, MAX_SEED, MAX_TEXT, MAX_UNITS  # noqa: E402

# The names the file format knows.  Each tuple is read off its Literal type.
Activation = Literal["identity", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus", "hard_tanh"]
Initializer = Literal[
    "zeros", "pytorch_default", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "lecun_normal"
]
# Optimizers and schedules: names read off the engine's registries (each described once)
OptimizerKind = Literal[_OPTIMIZER_NAMES]
ScheduleKind = Literal[_SCHEDULE_NAMES]
DerivedFeature = Literal["x1_sq", "x2_sq", "x1x2", "sin_x1", "sin_x2"]
ACTIVATIONS = get_args(Activation)
INITIALIZERS = get_args(Initializer)
OPTIMIZERS = get_args(OptimizerKind)
SCHEDULES = get_args(ScheduleKind)
DERIVED_FEATURES = get_args(DerivedFeature)

_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Fraction = Annotated[float, Field(ge=0.0, le=0.9)]
Strength = Annotated[float, Field(ge=0.0, le=100.0)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class SpecError(ValueError):
    """An experiment spec (or file) is invalid.

    ``errors`` is a list of ``(path, message)`` pairs; ``str()`` gives one line
    per error, each naming the dotted path, e.g. ``optimizer.lr: must be > 0, got -0.1``.
    """

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("\n".join(f"{p}: {m}" if p else m for p, m in self.errors))

    @property
    def first_line(self) -> str:
        return str(self).splitlines()[0] if self.errors else "invalid experiment"


# ---------------------------------------------------------------------------
@dataclass(config=_CONFIG)
class DataSpec:
    """The data *recipe*: where the samples come from, how they are split and scaled.

    ``source`` is ``synthetic`` (``name`` is a generator, e.g. ``two_spirals``),
    ``bundled`` (``name`` is a shipped data set, e.g. ``iris``) or ``csv``
    (``csv_path`` with ``target_column``; ``csv_sha256`` records the content).
    Scaling statistics are fitted on the training split only.

    CSV reading: ``csv_delimiter`` and ``csv_decimal`` are detected (``auto``) or forced
    (a decimal comma needs a delimiter other than the comma).  ``missing``: rows with a
    missing feature value are dropped, or the value is filled with the training split's
    mean of its column, or the file is refused; a row without a target is always dropped
    (refused under ``refuse``).  ``standardize_targets`` (regression): the network learns
    ``(y - mean_train) / std_train`` per output and reports everything in the units of ``y``.
    """

    source: Literal["synthetic", "bundled", "csv"] = "synthetic"
    name: Annotated[str, Field(max_length=200)] = "two_spirals"
    n_samples: Annotated[int, Field(ge=4, le=MAX_SAMPLES)] = 400
    noise: Annotated[float, Field(ge=0.0, le=10.0)] = 0.1
    n_classes: Annotated[int, Field(ge=2, le=10)] = 3
    derived_features: Annotated[tuple[DerivedFeature, ...], Field(max_length=5)] = ()
    csv_path: Optional[Annotated[str, Field(max_length=4096)]] = None
    csv_sha256: Optional[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = None
    target_column: Optional[Annotated[str, Field(max_length=200)]] = None
    task: Literal["auto", "classification", "regression"] = "auto"
    val_fraction: Fraction = 0.2
    test_fraction: Fraction = 0.0
    stratify: bool = True
    scaling: Literal["standard", "minmax", "none"] = "standard"
    seed: Seed = 0
    csv_delimiter: Literal["auto", ",", ";", "\t"] = "auto"
    csv_decimal: Literal["auto", ".", ","] = "auto"
    missing: Literal["drop", "fill", "refuse"] = "drop"
    standardize_targets: bool = True

    @model_validator(mode="after")
    def _check(self) -> "DataSpec":
        if self.csv_delimiter == "," and self.csv_decimal == ",":
            raise ValueError("csv_decimal ',' needs a csv_delimiter other than ','")
        if self.val_fraction + self.test_fraction > 0.9:
            raise ValueError(
                f"val_fraction + test_fraction must be <= 0.9, got {self.val_fraction + self.test_fraction:g}"
            )
        if self.source == "csv" and not self.csv_path:
            raise ValueError("csv_path is required when source is 'csv'")
        if len(set(self.derived_features)) != len(self.derived_features):
            raise ValueError("derived_features must not repeat a feature")
        return self


@dataclass(config=_CONFIG)
class LayerSpec:
    """One hidden dense layer: h = g(W^T x + c), with dropout rate p on its output."""

    units: Annotated[int, Field(ge=1, le=MAX_UNITS)] = 16
    activation: Activation = "relu"
    dropout: Annotated[float, Field(ge=0.0, le=0.95)] = 0.0
    init: Initializer = "he_uniform"


@dataclass(config=_CONFIG)
class ArchitectureSpec:
    """Hidden layers in order; the output layer and its loss follow the task.

    regression: linear output + MSE; binary: sigmoid + BCE (from logits);
    multi-class: softmax + cross entropy (log-sum-exp).  ``input_dropout`` is
    the dropout rate on the input features.
    """

    layers: Annotated[tuple[LayerSpec, ...], Field(max_length=MAX_LAYERS)] = (
        LayerSpec(16, "tanh", 0.0, "xavier_uniform"),
        LayerSpec(16, "tanh", 0.0, "xavier_uniform"),
    )
    input_dropout: Annotated[float, Field(ge=0.0, le=0.95)] = 0.0
    output_init: Initializer = "xavier_uniform"


def _annotation(setting: Setting) -> Any:
    """The pydantic type of a registry :class:`~workbench.engine.setting.Setting`."""
    if setting.kind == "bool":
        return bool
    if setting.kind == "choice":
        return Literal[setting.choices]
    bounds: dict[str, Any] = {}
    if setting.low is not None:
        bounds["gt" if setting.low_open else "ge"] = setting.low
    if setting.high is not None:
        bounds["lt" if setting.high_open else "le"] = setting.high
    if setting.kind == "ints":
        return Annotated[tuple[Annotated[int, Field(**bounds)], ...], Field(max_length=setting.max_items)]
    return Annotated[int if setting.kind == "int" else float, Field(**bounds)]


def _registry_spec(name: str, doc: str, kind: tuple[Any, Any], settings: dict[str, Setting], check) -> type:
    """A frozen spec dataclass whose fields are ``kind`` and one per registry setting
    (name, type and default read from the setting), validated by ``check`` after the fields."""
    fields = [("kind", *kind)] + [(s.name, _annotation(s), s.default) for s in settings.values()]
    cls = dataclasses.make_dataclass(name, fields, frozen=True, namespace={
        "__doc__": doc, "__module__": __name__, "_check": model_validator(mode="after")(check)})
    return dataclass(config=_CONFIG)(cls)


def _check_optimizer(self):
    optimizer_class(self.kind).check({name: getattr(self, name) for name in HYPERPARAMETERS})
    return self


OptimizerSpec = _registry_spec(
    "OptimizerSpec",
    """Update rule ``kind`` (one of :data:`OPTIMIZERS`), the learning rate ``lr`` and every
    hyperparameter of :data:`workbench.engine.optimizers.HYPERPARAMETERS` (only those the
    rule uses matter): ``momentum`` and ``momentum_form`` (``velocity``: v <- beta v + eta g,
    w <- w - v; ``accumulator``: M <- beta M + g, w <- w - eta M), ``beta1``, ``beta2``,
    ``rho`` (RMSProp's gamma, Adadelta's rho), ``eps``, ``bias_correction`` (Adam, seed 000
    eq. 6 or 7), ``momentum_decay`` (NAdam's psi).  Fields, ranges and defaults are read off
    the engine's registry, where each rule is described once.""",
    (OptimizerKind, "adam"), HYPERPARAMETERS, _check_optimizer)


@dataclass(config=_CONFIG)
class RegularizationSpec:
    """Penalties and noise.

    ``l1``: alpha * sum|w| added to the loss; ``l2``: (alpha/2) w^T w added to the
    loss (both coupled: they enter the gradient).  ``weight_decay``: decoupled
    decay w <- w - eta * lambda * w applied beside the update (AdamW style).
    Biases are penalised only with ``penalize_biases``.  ``input_noise`` is the
    std of Gaussian noise added to each training batch.  ``dropout_test_method``:
    ``inverted`` (train scales kept units by 1/(1-p)), ``classic`` (weights
    scaled by (1-p) at test time) or ``mc`` (average of ``mc_samples`` masked passes).
    """

    l1: Strength = 0.0
    l2: Strength = 0.0
    weight_decay: Strength = 0.0
    penalize_biases: bool = False
    input_noise: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    dropout_test_method: Literal["inverted", "classic", "mc"] = "inverted"
    mc_samples: Annotated[int, Field(ge=1, le=1000)] = 20


def _check_schedule(self):
    if list(self.milestones) != sorted(set(self.milestones)):
        raise ValueError(f"milestones must be strictly increasing, got {list(self.milestones)}")
    return self


ScheduleSpec = _registry_spec(
    "ScheduleSpec",
    """Learning rate per epoch e (0-based), eta = optimizer.lr: ``kind`` (one of
    :data:`SCHEDULES`) and every parameter of :data:`workbench.engine.schedules.SETTINGS`
    (only those the kind uses matter; the warm-up goes in front of any kind).

    constant: eta; step: eta gamma^floor(e/step_size); multistep: eta gamma^(#milestones <= e);
    exponential: eta gamma^e; linear: eta (1 - (1-end_factor) e/E); inverse_scaling:
    eta / (e+1)^power; cosine: min_lr + (eta-min_lr)(1+cos(pi t/T))/2, with warm restarts
    of period ``period`` growing by ``t_mult``; one_cycle: up from eta/div_factor to eta
    over ``pct_start`` of the epochs, then down to eta/(div_factor*final_div_factor);
    plateau: eta times ``factor`` whenever the monitored loss has not improved for
    ``patience`` epochs (then ``cooldown`` epochs of rest), never below ``min_lr``.
    A linear warm-up of ``warmup_epochs`` from ``warmup_start_factor`` * eta comes in
    front of any of them.""",
    (ScheduleKind, "constant"), SCHEDULE_SETTINGS, _check_schedule)


@dataclass(config=_CONFIG)
class EarlyStoppingSpec:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs (counted from ``start_epoch``); optionally restore the best weights.

    ``followup`` (seed 001): ``retrain`` re-initialises and trains on train+validation
    for the best number of epochs; ``continue`` keeps training on train+validation until
    the training loss falls to the value it had at the best epoch.
    """

    enabled: bool = False
    monitor: Literal["val_loss", "val_accuracy", "val_rmse", "val_r2"] = "val_loss"
    mode: Literal["auto", "min", "max"] = "auto"
    patience: Annotated[int, Field(ge=0, le=MAX_EPOCHS)] = 10
    min_delta: Annotated[float, Field(ge=0.0, le=1e6)] = 0.0
    start_epoch: Annotated[int, Field(ge=0, le=MAX_EPOCHS)] = 0
    restore_best: bool = True
    followup: Literal["none", "retrain", "continue"] = "none"


@dataclass(config=_CONFIG)
class TrainingSpec:
    """How long and in what portions: ``epochs`` passes, mini-batches of ``batch_size``.

    ``seed`` fixes initialisation, shuffling, dropout masks and input noise.
    """

    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = 200
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH)] = 32
    seed: Seed = 0


@dataclass(config=_CONFIG)
class ExperimentSpec:
    """A complete experiment: data recipe, network, optimizer, regularization,
    schedule, early stopping and training length."""

    name: Name = "Two spirals"
    description: Text = ""
    data: DataSpec = DataSpec()
    architecture: ArchitectureSpec = ArchitectureSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    regularization: RegularizationSpec = RegularizationSpec()
    schedule: ScheduleSpec = ScheduleSpec()
    early_stopping: EarlyStoppingSpec = EarlyStoppingSpec()
    training: TrainingSpec = TrainingSpec()

    @model_validator(mode="after")
    def _check(self) -> "ExperimentSpec":
        needs_val = (self.early_stopping.enabled) or (
            self.schedule.kind == "plateau" and self.schedule.monitor == "val_loss"
        )
        if needs_val and self.data.val_fraction == 0.0:
            raise ValueError(
                "data.val_fraction: must be > 0 when early stopping or a val_loss plateau schedule is on, got 0"
            )
        return self


# ---------------------------------------------------------------------------
# Results of a run (what a saved experiment carries besides its spec).  Bounds: one run of
# the engine always fits them (see workbench.limits); a file holds at most MAX_SAVED_PARAMETERS weights.
from .limits import (  # noqa: E402
    MAX_FINAL_METRICS,
    MAX_MARKER_TEXT,
    MAX_MARKERS,
    MAX_PARAMETERS,
    MAX_RUNS,
    MAX_WEIGHTS_B64,
)

HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "val_loss",
    "penalty",
    "lr",
    "train_accuracy",
    "val_accuracy",
    "train_rmse",
    "val_rmse",
    "train_r2",
    "val_r2",
)
MarkerKind = Literal["plateau", "restart", "lr_change", "reg_change", "phase", "diverged"]
FloatOrNone = Optional[float]


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class Marker:
    """Something worth marking on the curves at ``epoch`` (1-based)."""

    kind: MarkerKind
    epoch: Annotated[int, Field(ge=0, le=2 * MAX_EPOCHS)]
    text: Annotated[str, Field(max_length=MAX_MARKER_TEXT)] = ""


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class EarlyStopSummary:
    """Epochs are 1-based: ``best_epoch`` had the best monitored value; training
    stopped after ``stopped_epoch`` (``fired``: early stopping stopped it; else it was the
    run's last epoch); ``restored`` says the best weights were put back."""

    monitor: str
    best_epoch: Annotated[int, Field(ge=0, le=MAX_EPOCHS)]
    stopped_epoch: Annotated[int, Field(ge=0, le=MAX_EPOCHS)]
    best_value: Optional[float]
    restored: bool
    patience: Annotated[int, Field(ge=0, le=MAX_EPOCHS)] = 0
    best_train_loss: Optional[float] = None
    fired: bool = True


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class WeightsBlob:
    """Trained parameters, safely encoded: base64 of little-endian float32 values of
    the flat parameter vector (no pickle)."""

    n_params: Annotated[int, Field(ge=0, le=MAX_PARAMETERS)]
    data_b64: Annotated[str, Field(max_length=MAX_WEIGHTS_B64)]
    dtype: Literal["<f4"] = "<f4"


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class RunResult:
    """What a run produced: per-epoch history columns (all the same length; a value is
    ``None`` where it does not apply), markers, the early-stopping summary, final
    metrics on train/val/test, wall time, and the trained weights if kept."""

    history: dict[str, Annotated[tuple[FloatOrNone, ...], Field(max_length=MAX_HISTORY)]]
    markers: Annotated[tuple[Marker, ...], Field(max_length=MAX_MARKERS)] = ()
    early_stop: Optional[EarlyStopSummary] = None
    final_metrics: dict[str, FloatOrNone] = dataclasses.field(default_factory=dict)
    wall_time: Annotated[float, Field(ge=0.0, le=1e9)] = 0.0
    status: Literal["finished", "early_stopped", "stopped", "diverged", "failed"] = "finished"
    message: Annotated[str, Field(max_length=2000)] = ""
    markers_left_out: Annotated[int, Field(ge=0, le=10 * MAX_EPOCHS)] = 0  # beyond MAX_MARKERS (see markers.thin)
    followup_history: Optional[
        dict[str, Annotated[tuple[FloatOrNone, ...], Field(max_length=MAX_HISTORY)]]
    ] = None
    weights: Optional[WeightsBlob] = None

    @model_validator(mode="after")
    def _check(self) -> "RunResult":
        for hist_name, hist in (("history", self.history), ("followup_history", self.followup_history)):
            if hist is None:
                continue
            unknown = sorted(set(hist) - set(HISTORY_COLUMNS))
            if unknown:
                raise ValueError(f"{hist_name}: unknown column {unknown[0]!r}")
            lengths = {len(v) for v in hist.values()}
            if len(lengths) > 1:
                raise ValueError(f"{hist_name}: columns must have equal lengths, got {sorted(lengths)}")
            # the epoch column is the curves' x axis: epoch numbers only
            for i, e in enumerate(hist.get("epoch", ())):
                if e is None or not (0 <= e <= 2 * MAX_EPOCHS):
                    raise ValueError(f"{hist_name}.epoch: entry {i} must be an epoch number from 0 to "
                                     f"{2 * MAX_EPOCHS}, got {e!r}")
        if len(self.final_metrics) > MAX_FINAL_METRICS:
            raise ValueError(f"final_metrics: at most {MAX_FINAL_METRICS} entries")
        return self


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class SavedRun:
    """One run of a session as a file keeps it: its ``name``, the settings it trained with
    (``spec``), its ``result`` (None: it never finished), the run it was made from
    (``parent``, an index into the file's runs: "duplicate and change"), the ``group`` of
    seeds it was trained with ("repeat x N"), and how the window shows it (``color``: an
    index into the palette; ``visible``; ``pinned``)."""

    name: Name
    spec: ExperimentSpec
    result: Optional[RunResult] = None
    parent: Optional[Annotated[int, Field(ge=0, lt=MAX_RUNS)]] = None
    group: Optional[Annotated[str, Field(min_length=1, max_length=200)]] = None
    color: Annotated[int, Field(ge=0, le=1023)] = 0
    visible: bool = True
    pinned: bool = False


PACES = (1.0, 3.0, 10.0, 30.0, 100.0)
"""The speeds a run can be watched at, in epochs per second (None: as fast as it trains)."""


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class ViewHints:
    """How a file's experiment is best watched (nothing here changes a number): ``pace``
    in epochs per second (None: as fast as possible)."""

    pace: Optional[Annotated[float, Field(gt=0.0, le=1000.0)]] = None


# ---------------------------------------------------------------------------
def _format_error(err: dict[str, Any]) -> tuple[str, str]:
    path = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    msg = err.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        named = re.match(r"^([a-z_][a-z0-9_.]*): (.*)$", msg, re.S)
        if named:  # a cross-field rule that names its field: move the name into the path
            path = f"{path}.{named.group(1)}" if path else named.group(1)
            msg = named.group(2)
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    if kind == "greater_than":
        msg = f"must be > {ctx.get('gt')}"
    elif kind == "greater_than_equal":
        msg = f"must be >= {ctx.get('ge')}"
    elif kind == "less_than":
        msg = f"must be < {ctx.get('lt')}"
    elif kind == "less_than_equal":
        msg = f"must be <= {ctx.get('le')}"
    elif kind in ("extra_forbidden", "unexpected_keyword_argument"):
        msg = "unknown key"
    elif kind == "missing":
        msg = "required key is missing"
    elif kind == "literal_error":
        msg = f"must be one of {ctx.get('expected', '')}"
    if kind not in ("missing", "extra_forbidden", "unexpected_keyword_argument") and "input" in err and not kind.startswith("value_error"):
        shown = repr(err["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{msg}, got {shown}"
    return path, msg


def spec_error_from(exc: ValidationError, prefix: str = "") -> SpecError:
    """Turn a pydantic ``ValidationError`` into a :class:`SpecError` naming dotted paths."""
    errors = []
    for err in exc.errors(include_url=False):
        path, msg = _format_error(err)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        errors.append((path, msg))
    return SpecError(errors)


_ADAPTERS: dict[type, TypeAdapter] = {}


def parse(cls: type, data: Any, prefix: str = "") -> Any:
    """Validate plain JSON-like ``data`` as ``cls`` (a spec dataclass); raise SpecError."""
    adapter = _ADAPTERS.setdefault(cls, TypeAdapter(cls))
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise spec_error_from(exc, prefix) from None


def to_plain(obj: Any) -> Any:
    """A spec dataclass as JSON-ready plain data (dicts, lists, numbers, strings)."""
    adapter = _ADAPTERS.setdefault(type(obj), TypeAdapter(type(obj)))
    return adapter.dump_python(obj, mode="json")


def replace(obj: Any, prefix: str = "", **changes: Any) -> Any:
    """``dataclasses.replace`` that raises :class:`SpecError` naming the field
    (``prefix`` is the object's own dotted path, e.g. ``optimizer``)."""
    try:
        return dataclasses.replace(obj, **changes)
    except ValidationError as exc:
        raise spec_error_from(exc, prefix) from None
