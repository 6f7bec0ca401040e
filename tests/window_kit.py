"""What the window tests share: a spec that trains in a moment, running to the end, the
same spec trained headless, and the dialogs replaced by answers (fixtures in conftest)."""

from __future__ import annotations

import numpy as np

from workbench import spec as S


class Dialogs:
    """Replaces the window's dialog functions; records what they were asked."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.questions: list[str] = []
        self.answer = "discard"
        self.open_path = None
        self.save_path = None
        self.readonly_answer = False
        self.without_weights_answer = False
        self.located = None
        self.asked: list[str] = []

    def ask(self, parent, name):
        self.questions.append(name)
        return self.answer

    def error(self, parent, title, text):
        self.errors.append((title, text))

    def ask_readonly(self, parent, name):
        self.asked.append(f"readonly {name}")
        return self.readonly_answer

    def ask_without_weights(self, parent, reason):
        self.asked.append(f"without weights: {reason}")
        return self.without_weights_answer

    def locate(self, parent, looked_for):
        self.asked.append(f"locate {looked_for}")
        return self.located


def quick_spec(epochs=15, **changes) -> S.ExperimentSpec:
    base = S.ExperimentSpec(
        name="Quick",
        data=S.DataSpec(name="two_spirals", n_samples=200, noise=0.1, val_fraction=0.25, seed=2),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(12, "tanh", 0.0, "xavier_uniform"),)),
        training=S.TrainingSpec(epochs=epochs, batch_size=16, seed=5),
    )
    return S.replace(base, **changes) if changes else base


def headless_result(spec):
    """The same spec trained without any GUI: build_run + Recorder."""
    from workbench.build import build_run
    from workbench.data import load_dataset
    from workbench.history import Recorder

    run = build_run(spec, load_dataset(spec.data))
    rec = Recorder(spec)
    for ev in run.events():
        rec.add(ev)
    return rec.result(weights=run.network.params)


def run_to_end(qtbot, window, timeout=60_000):
    with qtbot.waitSignal(window.run_finished, timeout=timeout) as blocker:
        window.act_run.trigger()
    return blocker.args[0]


def history_array(result, name):
    return np.array([np.nan if v is None else v for v in result.history[name]], dtype=np.float64)
