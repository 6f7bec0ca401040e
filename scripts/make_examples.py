"""Regenerate resources/examples/*.json from the specs below (run once after a spec change)."""

from pathlib import Path

from workbench import spec as S
from workbench.experiment_file import dumps

EXAMPLES = {
    "two_spirals": S.ExperimentSpec(
        name="Two spirals",
        description="The default: two interleaved spirals, two tanh layers, Adam.",
        data=S.DataSpec(name="two_spirals", n_samples=400, noise=0.1, val_fraction=0.2),
        architecture=S.ArchitectureSpec(
            layers=(S.LayerSpec(16, "tanh", 0.0, "xavier_uniform"), S.LayerSpec(16, "tanh", 0.0, "xavier_uniform"))
        ),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.01),
        training=S.TrainingSpec(epochs=200, batch_size=32, seed=0),
    ),
    "xor": S.ExperimentSpec(
        name="XOR (seed 001)",
        description="The four XOR points of lecture 001 with a 2-4-1 tanh network. "
        "Try a linear model (no hidden layer): it converges to w = 0, b = 1/2.",
        data=S.DataSpec(name="xor4", val_fraction=0.0, test_fraction=0.0, scaling="none", stratify=False),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(4, "tanh", 0.0, "xavier_uniform"),)),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.05),
        training=S.TrainingSpec(epochs=300, batch_size=4, seed=1),
    ),
    "overfitting": S.ExperimentSpec(
        name="Overfitting and early stopping",
        description="Few noisy moons and a big network: the validation loss turns up and early "
        "stopping restores the best weights.",
        data=S.DataSpec(name="moons", n_samples=120, noise=0.35, val_fraction=0.5, seed=3),
        architecture=S.ArchitectureSpec(
            layers=(S.LayerSpec(128, "relu", 0.0, "he_uniform"), S.LayerSpec(128, "relu", 0.0, "he_uniform"))
        ),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.01),
        early_stopping=S.EarlyStoppingSpec(enabled=True, monitor="val_loss", patience=25, restore_best=True),
        training=S.TrainingSpec(epochs=600, batch_size=8, seed=0),
    ),
    "iris": S.ExperimentSpec(
        name="Iris (UCI)",
        description="Three iris species from four measurements; 20 % held out as a test set.",
        data=S.DataSpec(source="bundled", name="iris", val_fraction=0.2, test_fraction=0.2),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(32, "relu", 0.0, "he_uniform"),)),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.005),
        regularization=S.RegularizationSpec(l2=1e-3),
        training=S.TrainingSpec(epochs=100, batch_size=16, seed=0),
    ),
    "sine_regression": S.ExperimentSpec(
        name="Noisy sine (regression)",
        description="Fit a 1-D noisy sine; watch the fitted curve and R².",
        data=S.DataSpec(name="sine_1d", n_samples=300, noise=0.1, val_fraction=0.2),
        architecture=S.ArchitectureSpec(
            layers=(S.LayerSpec(32, "tanh", 0.0, "xavier_uniform"), S.LayerSpec(32, "tanh", 0.0, "xavier_uniform"))
        ),
        optimizer=S.OptimizerSpec(kind="adam", lr=0.01),
        schedule=S.ScheduleSpec(kind="plateau", patience=10, factor=0.5),
        training=S.TrainingSpec(epochs=300, batch_size=32, seed=0),
    ),
}


#: the speed each example is best watched at (epochs a second: a demonstration of 7-20 s)
PACES = {"two_spirals": 30.0, "xor": 30.0, "overfitting": 30.0, "iris": 10.0, "sine_regression": 30.0}


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "resources" / "examples"
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in EXAMPLES.items():
        text = dumps(spec, view=S.ViewHints(pace=PACES[name]))
        (out / f"{name}.json").write_text(text, encoding="utf-8")
        print("wrote", out / f"{name}.json")


if __name__ == "__main__":
    main()
