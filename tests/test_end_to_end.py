"""Spec -> data -> engine -> recorder on every bundled classification set, and the
determinism of the whole path (same spec, same numbers)."""

import pytest

from workbench import spec as S
from workbench.build import build_run
from workbench.data import BUNDLED, load_dataset
from workbench.history import Recorder

CLASSIFICATION = sorted(name for name, b in BUNDLED.items() if b.task == "classification")


def bundled_spec(name: str, epochs: int) -> S.ExperimentSpec:
    return S.ExperimentSpec(
        data=S.DataSpec(source="bundled", name=name, val_fraction=0.2, test_fraction=0.2),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(32, "relu", 0.0, "he_uniform"),)),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.005),
        regularization=S.RegularizationSpec(l2=1e-3),
        training=S.TrainingSpec(epochs=epochs, batch_size=16, seed=0),
    )


def run(spec):
    return Recorder(spec).add_all(build_run(spec, load_dataset(spec.data), emit_batches=False).events()).result()


def test_all_four_classification_sets_are_bundled():
    assert set(CLASSIFICATION) >= {"iris", "wine", "breast_cancer", "digits"}


@pytest.mark.parametrize("name, epochs", [("iris", 100), ("wine", 60), ("breast_cancer", 40), ("digits", 30)])
def test_small_net_reaches_sensible_test_accuracy(name, epochs):
    result = run(bundled_spec(name, epochs))
    assert result.status == "finished"
    assert len(result.history["epoch"]) == epochs
    assert result.final_metrics["test_accuracy"] >= 0.90
    assert result.history["train_loss"][-1] < result.history["train_loss"][0]


def test_regression_set_trains():
    spec = S.replace(bundled_spec("auto_mpg", 40), data=S.DataSpec(source="bundled", name="auto_mpg",
                                                                      val_fraction=0.2, test_fraction=0.2))
    result = run(spec)
    assert result.final_metrics["test_r2"] > 0.7


def test_same_spec_gives_identical_results_and_another_seed_differs():
    spec = bundled_spec("wine", 8)
    a, b = run(spec), run(spec)
    assert a.history == b.history and a.final_metrics == b.final_metrics
    other = S.replace(spec, training=S.replace(spec.training, seed=1))
    assert run(other).history["train_loss"] != a.history["train_loss"]
