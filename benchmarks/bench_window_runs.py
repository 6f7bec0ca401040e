"""The window with eight live runs overlaid: the GUI stays responsive and the group trains
at (nearly) its headless speed (issue 10).

    python benchmarks/bench_window_runs.py [--rounds 3] [--epochs 300] [--quick]

Case: issue 10's tiny network (2-8-8-1 tanh, SGD η 0.1, batch 10, 500 two-spirals samples,
no validation split... a 20 % one, so the curves have a validation line), 8 seeds.
Variants, interleaved per round in one process:

* ``headless``: ``build_group`` of the 8 seeds + one ``Recorder`` per member, and the
  members' results (histories and weights) made from them: what
  ``mlp-workbench run --seeds 0-7`` does before writing them, and what the window's worker
  hands to the window;
* ``window``: a shown ``MainWindow`` (1600x1000), Repeat x 8: the group trains in the
  worker thread while the GUI draws the shown member's curves, the group's band and the
  boundary live (at full speed).

Throughput = epochs x members x n_train / wall time (Run to ``run_finished``).  A 10 ms
``PreciseTimer`` probe on the GUI thread records its lateness (p99 target < 30 ms); the
window's throughput is reported as a ratio to the headless one of the same round
(target >= 90 %).  Blocks wait until other processes use < 0.25 cores.
Results: ``results/window_runs.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import wait_quiet  # noqa: E402

from workbench import spec as S  # noqa: E402

SEEDS = 8
PROBE_MS = 10


def tiny_spec(epochs: int) -> S.ExperimentSpec:
    return S.ExperimentSpec(
        name="Tiny group",
        data=S.DataSpec(name="two_spirals", n_samples=500, noise=0.1, val_fraction=0.2, seed=0),
        architecture=S.ArchitectureSpec(layers=(S.LayerSpec(8, "tanh", 0.0, "xavier_uniform"),
                                                S.LayerSpec(8, "tanh", 0.0, "xavier_uniform"))),
        optimizer=S.OptimizerSpec(kind="sgd", lr=0.1),
        training=S.TrainingSpec(epochs=epochs, batch_size=10, seed=0),
    )


def run_headless(spec, dataset) -> dict:
    from workbench.build import build_group
    from workbench.history import Recorder

    specs = [S.replace(spec, "", training=S.replace(spec.training, "training", seed=s)) for s in range(SEEDS)]
    t0 = time.perf_counter()
    group = build_group(specs, dataset)
    recorders = [Recorder(s) for s in specs]
    for event in group.events():
        recorders[event.member].add(event)
    results = [r.result(weights=group.member_params(m)) for m, r in enumerate(recorders)]
    secs = time.perf_counter() - t0
    epochs = sum(len(r.history["epoch"]) for r in results)
    return {"seconds": secs, "samples_per_s": epochs * len(dataset.X_train) / secs}


class Probe:
    """A 10 ms single-shot precise QTimer re-armed on every tick; records its lateness."""

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.late_ms: list[float] = []
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.running = False
        self._armed = 0.0

    def start(self) -> None:
        self.running = True
        self._arm()

    def stop(self) -> None:
        self.running = False
        self.timer.stop()

    def _arm(self) -> None:
        self._armed = time.perf_counter()
        self.timer.start(PROBE_MS)

    def _tick(self) -> None:
        self.late_ms.append(max(0.0, (time.perf_counter() - self._armed) * 1e3 - PROBE_MS))
        if self.running:
            self._arm()


def run_window(spec, dataset, settings_dir: str, seeds: int = SEEDS, inside: bool = False) -> dict:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from workbench.ui import dialogs
    from workbench.ui.main_window import MainWindow

    dialogs.ask_save_changes = lambda *a: "discard"
    app = QApplication.instance()
    settings = QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(spec, settings=settings)
    win.resize(1600, 1000)
    win.show()
    if inside:
        win.show_inside()
    for _ in range(5):
        app.processEvents()
    probe, loop, out = Probe(), QEventLoop(), {}

    def finished(_result):
        out["t1"] = time.perf_counter()
        probe.stop()
        loop.quit()

    win.run_finished.connect(finished)
    win.run_failed.connect(lambda msg: (out.setdefault("error", msg), loop.quit()))
    c0 = time.thread_time()
    probe.start()
    t0 = time.perf_counter()
    if not (win.repeat_run(seeds) if seeds > 1 else win.start_run()):
        raise RuntimeError("the window did not start the group")
    QTimer.singleShot(600_000, loop.quit)
    loop.exec()
    cpu = time.thread_time() - c0
    if "error" in out:
        raise RuntimeError(out["error"])
    secs = out["t1"] - t0
    epochs = sum(len(r.result.history["epoch"]) for r in win.session.runs)
    overlays = len(win.curves.overlays)
    win.close()
    win.deleteLater()
    for _ in range(3):
        app.processEvents()
    late = np.asarray(probe.late_ms or [0.0])
    return {"seconds": secs, "samples_per_s": epochs * len(dataset.X_train) / secs, "overlays": overlays,
            "lateness_p50_ms": float(np.percentile(late, 50)), "lateness_p99_ms": float(np.percentile(late, 99)),
            "lateness_max_ms": float(late.max()), "gui_cpu_share": cpu / secs}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--quick", action="store_true", help="30 epochs, one round (a smoke run)")
    p.add_argument("--out", default="window_runs", help="results/NAME.json (empty: do not write)")
    p.add_argument("--inside", action="store_true",
                   help="instead: one run (seed 0) with the Inside dock hidden vs shown (its cost)")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.epochs = 1, 30
    from PySide6.QtWidgets import QApplication

    from workbench.data import load_dataset

    app = QApplication.instance() or QApplication([])  # noqa: F841 - the window needs it
    spec = tiny_spec(args.epochs)
    dataset = load_dataset(spec.data, ".")
    rounds = []
    if args.inside:
        return inside_cost(spec, dataset, args)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            wait_quiet()
            head = run_headless(spec, dataset)
            wait_quiet()
            win = run_window(spec, dataset, tmp)
            rounds.append({"headless": head, "window": win,
                           "ratio": win["samples_per_s"] / head["samples_per_s"]})
            print(f"round {r + 1}: headless {head['seconds']:.2f} s, window {win['seconds']:.2f} s "
                  f"({rounds[-1]['ratio']:.0%}), probe p99 {win['lateness_p99_ms']:.1f} ms, "
                  f"max {win['lateness_max_ms']:.1f} ms, GUI thread {win['gui_cpu_share']:.0%}, "
                  f"{win['overlays']} overlay(s)")
    summary = {
        "ratio_median": statistics.median(r["ratio"] for r in rounds),
        "ratio_min": min(r["ratio"] for r in rounds),
        "p99_median_ms": statistics.median(r["window"]["lateness_p99_ms"] for r in rounds),
        "p99_max_ms": max(r["window"]["lateness_p99_ms"] for r in rounds),
    }
    print(f"window / headless: median {summary['ratio_median']:.0%} (min {summary['ratio_min']:.0%}); "
          f"probe p99: median {summary['p99_median_ms']:.1f} ms (max {summary['p99_max_ms']:.1f} ms)")
    if args.out:
        out = Path(__file__).resolve().parent / "results" / f"{args.out}.json"
        out.write_text(json.dumps({"epochs": args.epochs, "seeds": SEEDS, "rounds": rounds, "summary": summary},
                                  indent=2) + "\n")
    return 0


def inside_cost(spec, dataset, args) -> int:
    """One run in the window, the Inside dock hidden and shown, interleaved: what computing
    and drawing the diagram, the layer health and the errors costs (issue 11: <= 10 %)."""
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            wait_quiet()
            plain = run_window(spec, dataset, tmp, seeds=1)
            wait_quiet()
            shown = run_window(spec, dataset, tmp, seeds=1, inside=True)
            ratios.append(shown["samples_per_s"] / plain["samples_per_s"])
            print(f"round {r + 1}: hidden {plain['seconds']:.2f} s, shown {shown['seconds']:.2f} s "
                  f"({ratios[-1]:.0%}), probe p99 {shown['lateness_p99_ms']:.1f} ms")
    print(f"Inside dock shown / hidden: median {statistics.median(ratios):.0%} (min {min(ratios):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
