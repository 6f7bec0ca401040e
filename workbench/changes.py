"""What a run made from another one changed, and what the two still share.

:func:`describe_change` names the differences between two specs in the lecture notes'
notation for a legend ("η 0.01 → 0.1", "SGD → Momentum β 0.9", "L2 α 0 → 0.0001");
:func:`fairness` says whether the new run starts from the same initial weights, sees the
same mini-batches and draws the same dropout masks and input noise as the old one.

Optimizer and schedule names and their hyperparameters' symbols are read off the engine's
registries (each described once there); the other spec fields are named by :data:`NAMES`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Optional

from .engine.optimizers import HYPERPARAMETERS, OPTIMIZERS, hyperparameter_info, optimizer_class
from .engine.schedules import KINDS as SCHEDULE_KINDS, SETTINGS as SCHEDULE_SETTINGS, WARMUP
from .spec import ExperimentSpec

#: Short legend names of the spec fields that the registries do not describe.  Layer
#: fields get the layer's number as a subscript ("dropout p₁"); position 0 is the input.
NAMES: dict[str, str] = {
    "data.source": "data source",
    "data.name": "data",
    "data.n_samples": "samples",
    "data.noise": "data noise",
    "data.n_classes": "classes",
    "data.derived_features": "features",
    "data.csv_path": "CSV",
    "data.csv_sha256": "CSV content",
    "data.target_column": "target",
    "data.task": "task",
    "data.val_fraction": "validation fraction",
    "data.test_fraction": "test fraction",
    "data.stratify": "stratified split",
    "data.scaling": "scaling",
    "data.seed": "data seed",
    "data.csv_delimiter": "CSV delimiter",
    "data.csv_decimal": "CSV decimal",
    "data.missing": "missing values",
    "data.standardize_targets": "standardised targets",
    "architecture.layers": "layers",
    "layer.activation": "activation",
    "layer.init": "init",
    "layer.dropout": "dropout p",
    "architecture.input_dropout": "dropout p₀",
    "architecture.output_init": "output init",
    "regularization.l1": "L1 α",
    "regularization.l2": "L2 α",
    "regularization.weight_decay": "weight decay λ",
    "regularization.penalize_biases": "penalised biases",
    "regularization.input_noise": "input noise σ",
    "regularization.dropout_test_method": "test-time dropout",
    "regularization.mc_samples": "MC samples",
    "early_stopping.enabled": "early stopping",
    "early_stopping.monitor": "monitor",
    "early_stopping.mode": "mode",
    "early_stopping.patience": "patience",
    "early_stopping.min_delta": "min Δ",
    "early_stopping.start_epoch": "start epoch",
    "early_stopping.restore_best": "restore best",
    "early_stopping.followup": "follow-up",
    "schedule": "schedule",
    "training.epochs": "epochs",
    "training.batch_size": "batch",
    "training.seed": "seed",
}

#: Data fields that can change the number of inputs or outputs, hence the initial weights.
WIDTH_FIELDS = ("source", "name", "n_classes", "derived_features", "csv_path", "csv_sha256", "target_column",
                "task", "csv_delimiter", "csv_decimal", "missing")

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# ---------------------------------------------------------------------------
# Values and names


def _number(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, compactly: 0.3, 0.0001, 1e-5, 2.5e6."""
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _value(v: Any, digits: int = 6) -> str:
    """A spec value for a legend: on/off, none, numbers compactly, tuples joined by commas."""
    if isinstance(v, bool):
        return "on" if v else "off"
    if v is None:
        return "none"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _number(v, digits)
    if isinstance(v, tuple):
        return ",".join(_value(x, digits) for x in v) or "none"
    text = str(v)
    return text if len(text) <= 24 else text[:11] + "…" + text[-11:]  # a path or a checksum


def _item(name: str, old: Any, new: Any) -> str:
    """``"name old → new"``, numbers with the fewest digits (6 or more) that tell them apart."""
    for digits in range(6, 18):
        a, b = _value(old, digits), _value(new, digits)
        if a != b:
            break
    return f"{name} {a} → {b}"


def _lower_first(label: str) -> str:
    """'Cosine annealing' -> 'cosine annealing'; 'SGDR', 'T_mult' stay."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def short_name(label: str) -> str:
    """A registry label as a legend name: its symbol when it ends in one ('Learning rate η'
    -> 'η', 'Power p' -> 'p', 'Minimum η_min' -> 'η_min'), else the label without its
    parenthesis, lower-cased ('Step size (epochs)' -> 'step size')."""
    words = label.split(" (")[0].split()
    last = words[-1] if words else label
    if len(words) > 1 and (not last.isascii() or len(last) == 1):
        return last
    return _lower_first(" ".join(words))


def _hyper_name(kind: str, name: str) -> str:
    return short_name(hyperparameter_info(kind, name)[0])


def _main_hyperparameter(cls) -> Optional[str]:
    """The rule's main hyperparameter: the first it uses after η that is a linear float
    (momentum β, RMSProp's γ, Adam's β₁; not ε), or None (SGD, Adagrad)."""
    for name in cls.uses[1:]:
        setting = HYPERPARAMETERS[name]
        if setting.kind == "float" and setting.scale == "linear":
            return name
    return None


def _schedule_name(name: str, taken: set) -> str:
    """A schedule setting's legend name, prefixed 'schedule' where another field has it."""
    short = short_name(SCHEDULE_SETTINGS[name].label)
    return f"schedule {short}" if short in taken else short


@lru_cache(maxsize=1)
def _taken_names() -> frozenset:
    """Legend names used outside the schedule (optimizer symbols of every rule, NAMES);
    the registries are fixed once imported, so this is computed once (each legend label
    of every run asks for it)."""
    return frozenset(NAMES.values()) | {_hyper_name(kind, name) for kind in OPTIMIZERS for name in HYPERPARAMETERS}


# ---------------------------------------------------------------------------
# Differences by section


def _fields_items(prefix: str, old, new, names=None) -> list[str]:
    """One item per field of the dataclasses ``old``/``new`` that differs (in field order)."""
    out = []
    for f in fields(old):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b and (names is None or f.name in names):
            out.append(_item(NAMES[f"{prefix}.{f.name}"], a, b))
    return out


def _optimizer_items(old, new) -> list[str]:
    """'SGD → Momentum β 0.9' for another rule (with its main hyperparameter), then each
    hyperparameter both rules use that changed: 'η 0.01 → 0.1'."""
    old_cls, new_cls = optimizer_class(old.kind), optimizer_class(new.kind)
    items, shown = [], set()
    if old.kind != new.kind:
        rule = new_cls.label
        main = _main_hyperparameter(new_cls)
        if main is not None:
            rule += f" {_hyper_name(new.kind, main)} {_value(getattr(new, main))}"
            shown.add(main)
        items.append(f"{old_cls.label} → {rule}")
    for name in new_cls.uses:
        if name not in shown and name in old_cls.uses and getattr(old, name) != getattr(new, name):
            items.append(_item(_hyper_name(new.kind, name), getattr(old, name), getattr(new, name)))
    return items


def _regularization_items(old, new, mc: bool) -> list[str]:
    names = {f.name for f in fields(old)} - (set() if mc else {"mc_samples"})
    return _fields_items("regularization", old, new, names)


def _layer_items(old, new) -> list[str]:
    """'layers 8-8 → 16-16'; activation, init and dropout per layer ('dropout p₁ 0 → 0.5'),
    or once when every layer of two networks of two or more layers shares the value."""
    items = []
    widths = [tuple(layer.units for layer in arch.layers) for arch in (old, new)]
    if widths[0] != widths[1]:
        items.append(_item(NAMES["architecture.layers"], *("-".join(map(str, w)) or "none" for w in widths)))
    for attr in ("activation", "init", "dropout"):
        name = NAMES[f"layer.{attr}"]
        a = [getattr(layer, attr) for layer in old.layers]
        b = [getattr(layer, attr) for layer in new.layers]
        if min(len(a), len(b)) >= 2 and len(set(a)) == 1 and len(set(b)) == 1:
            if a[0] != b[0]:
                items.append(_item(name, a[0], b[0]))
            continue
        for i, (x, y) in enumerate(zip(a, b), start=1):
            if x != y:
                items.append(_item(name + str(i).translate(_SUBSCRIPTS), x, y))
    for field in ("input_dropout", "output_init"):
        if getattr(old, field) != getattr(new, field):
            items.append(_item(NAMES[f"architecture.{field}"], getattr(old, field), getattr(new, field)))
    return items


def _schedule_items(old, new) -> list[str]:
    """'schedule constant → step', then each setting both kinds (or the warm-up) use."""
    items = []
    if old.kind != new.kind:
        labels = (_lower_first(SCHEDULE_KINDS[k].label) for k in (old.kind, new.kind))
        items.append(_item(NAMES["schedule"], *labels))
    used = (set(SCHEDULE_KINDS[old.kind].uses) & set(SCHEDULE_KINDS[new.kind].uses)) | set(WARMUP)
    taken = _taken_names()
    for name in SCHEDULE_SETTINGS:
        if name in used and getattr(old, name) != getattr(new, name):
            items.append(_item(_schedule_name(name, taken), getattr(old, name), getattr(new, name)))
    return items


def _early_stopping_items(old, new) -> list[str]:
    if old.enabled != new.enabled:
        return [_item(NAMES["early_stopping.enabled"], old.enabled, new.enabled)]
    return _fields_items("early_stopping", old, new) if old.enabled else []


def changes(old: ExperimentSpec, new: ExperimentSpec) -> list[str]:
    """Every difference between ``old`` and ``new`` that changes training, one legend
    item each, in the order optimizer, regularization, architecture, schedule, early
    stopping, training, data.  Settings that neither spec uses are left out (an
    optimizer hyperparameter of another rule, a schedule setting of another kind,
    early-stopping settings while it is off, MC samples without MC dropout), as are the
    name and the description."""
    mc = "mc" in (old.regularization.dropout_test_method, new.regularization.dropout_test_method)
    return (_optimizer_items(old.optimizer, new.optimizer)
            + _regularization_items(old.regularization, new.regularization, mc)
            + _layer_items(old.architecture, new.architecture)
            + _schedule_items(old.schedule, new.schedule)
            + _early_stopping_items(old.early_stopping, new.early_stopping)
            + _fields_items("training", old.training, new.training)
            + _fields_items("data", old.data, new.data))


def describe_change(old: ExperimentSpec, new: ExperimentSpec, max_items: int = 3) -> str:
    """What differs from ``old`` to ``new``, for a legend: the first ``max_items`` of
    :func:`changes` joined by commas, then 'and N more' ("η 0.01 → 0.1, L2 α 0 → 0.0001
    and 2 more"); '' when nothing that changes training differs.  Numbers are written
    compactly with as few digits as tell the two values apart (0.3, never
    0.30000000000000004)."""
    items = changes(old, new)
    if len(items) <= max_items:
        return ", ".join(items)
    return ", ".join(items[:max_items]) + f" and {len(items) - max_items} more"


# ---------------------------------------------------------------------------
# Fairness


@dataclass(frozen=True)
class Fairness:
    """What a run trained from ``new`` shares with one trained from ``old``.  True is a
    guarantee (bit-identical arrays); False: not the same in general.

    ``same_initial_weights``: the same initial parameter vector.  ``same_batch_order``:
    every epoch cuts the same training samples into the same mini-batches, in the same
    order.  ``same_dropout_streams``: each batch draws its dropout masks and its input
    noise from the same random numbers (equal rates: equal masks and noise; a rate 0 draws
    nothing).  ``reason``: a short phrase for the legend when something is not shared."""

    same_initial_weights: bool
    same_batch_order: bool
    same_dropout_streams: bool
    reason: str = ""


def _dropout_layout(spec: ExperimentSpec) -> tuple:
    """The dropout positions that draw masks and their widths: position 0 is the input
    (its width the data's), k >= 1 the output of hidden layer k."""
    arch = spec.architecture
    rates = [arch.input_dropout] + [layer.dropout for layer in arch.layers]
    widths = ["input"] + [layer.units for layer in arch.layers]
    return tuple((k, widths[k]) for k, p in enumerate(rates) if p > 0.0)


def fairness(old: ExperimentSpec, new: ExperimentSpec) -> Fairness:
    """What ``new`` shares with ``old``, read off how the engine seeds a run of seed s
    (``workbench.build.make_network`` and ``engine.trainer``):

    * initial weights: drawn layer by layer, each by its initialiser, from
      ``SeedSequence([s, 1])`` -- the same when s, the hidden widths, the initialisers
      and the data's input/output widths are (activations, dropout rates, optimizer,
      penalties, schedule, batch size and the data fields outside :data:`WIDTH_FIELDS`
      play no part);
    * batch order: ``SeedSequence(s).spawn(3)[0]`` permutes the n training samples every
      epoch and the batches are consecutive slices of ``batch_size`` -- the same when s,
      the data and the batch size are (another batch size: the same sample order every
      epoch, cut into other batches);
    * dropout and noise: ``spawn(3)[1]`` draws one uniform mask (batch x width) per
      dropout position per batch, in position order, ``spawn(3)[2]`` the batch's noise
      -- the same when the batches are and both runs draw masks at the same positions of
      the same widths (or one draws none).
    """
    seed = old.training.seed == new.training.seed
    data = old.data == new.data
    widths = [layer.units for layer in old.architecture.layers] == [layer.units for layer in new.architecture.layers]
    inits = ([layer.init for layer in old.architecture.layers] + [old.architecture.output_init]
             == [layer.init for layer in new.architecture.layers] + [new.architecture.output_init])
    io_widths = all(getattr(old.data, f) == getattr(new.data, f) for f in WIDTH_FIELDS)
    batch = old.training.batch_size == new.training.batch_size
    layouts = _dropout_layout(old), _dropout_layout(new)
    masks = layouts[0] == layouts[1] or not layouts[0] or not layouts[1]

    same_weights = seed and io_widths and widths and inits
    same_batches = seed and data and batch
    same_streams = same_batches and masks

    reasons = []
    if not seed:
        reasons.append("other seed: new initial weights, batches and dropout")
    else:
        if not io_widths:
            reasons.append("other data: new initial weights and batches")
        elif not data:
            reasons.append("other data: other batches")
        if io_widths and not widths:
            reasons.append("other architecture: new initial weights")
        elif io_widths and not inits:
            reasons.append("other initialisation: new initial weights")
        if data and not batch:
            reasons.append("other batch size: same sample order, other batches")
        if same_batches and not masks:
            reasons.append("other dropout layers: new dropout masks")
    return Fairness(same_weights, same_batches, same_streams, "; ".join(reasons))
