"""UI responsiveness while training: event-loop lateness and throughput vs headless.

    python benchmarks/ui_responsiveness.py [--case medium|spirals|all] [--rounds N]
                                           [--epochs N] [--quick] [--profile]
    xvfb-run -a -s "-screen 0 1920x1200x24" python benchmarks/ui_responsiveness.py --platform xcb

The requirement (issue 4, "Responsiveness"): while the medium benchmark MLP trains,
a 10 ms ``QTimer`` probe's lateness has p99 < 50 ms, and training throughput with the
window open and plotting is at least 80 % of the headless runner's on the same
experiment.

Cases
    ``medium``   784-256-128-10 ReLU, softmax cross-entropy, Adam (lr 1e-3), batch 128,
                 60 000 random samples (uniform features, random labels; no validation
                 split), a few epochs.  Epochs last seconds: the window mostly shows
                 per-batch losses, progress and the read-out.
    ``spirals``  the default experiment (two spirals, 2-16-16-1 tanh, Adam, batch 32)
                 with more epochs: tiny epochs, so epoch events (curves, read-out and the
                 decision-boundary image) arrive as fast as the worker may send them.

Variants, run in interleaved rounds (``headless, window, window+batches``, rotated
each round, the median of the per-round ratios is reported):
    ``headless``        ``build_run(spec, dataset, emit_batches=False)`` and iterate
                        ``run.events()`` in this thread with a ``Recorder`` -- exactly
                        what ``mlp-workbench run`` does, without the progress bar.
    ``window``          ``MainWindow`` at 1600x1000, shown, Run; the GUI thread runs the
                        event loop with a 10 ms single-shot ``QTimer`` probe (precise
                        timer, re-armed on every tick); lateness = time of the tick minus
                        (time it was armed + 10 ms).
    ``window+batches``  the same with View -> Show batch losses on (per-batch curve and
                        its moving average: the heaviest live plotting).
Throughput = training samples (epochs x n_train) / wall time from the start of the run
to its ``Finished`` (the window: ``start_run()`` to ``run_finished`` received), so both
include building the network and the final evaluation.

Also reported for the window variants: the number of batches the worker emitted
(``updates``), of frames the window drew and how long they held the worker
(``TrainingWorker.hold``: a frame stops training while it draws and paints), the frame
costs the window acknowledged to the worker, and the GUI thread's CPU time over the
run (``time.thread_time``).  A separate "repaint" measurement fills the window with a
finished run's curves (and boundary image), then times synchronous repaints of the
whole window and of the curves panel alone (median of 15).

Every block first waits (up to 2 min) until other processes use less than
``FOREIGN_LIMIT`` cores, and the summary uses the rounds in which every block stayed
below it: on a shared 2-core machine a busy neighbour slows a 2-thread BLAS run several
times over, which says nothing about the window (``--no-wait`` skips the waiting).

Results go to ``benchmarks/results/ui_responsiveness.json``; ``--out NAME`` changes the
file name.  Runs under ``QT_QPA_PLATFORM=offscreen`` unless ``--platform`` says
otherwise (``xcb`` under ``xvfb-run``: closer to a real X server's costs).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


def _platform_from_argv() -> Optional[str]:
    for i, a in enumerate(sys.argv):
        if a == "--platform" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--platform="):
            return a.split("=", 1)[1]
    return None


# Qt must know its platform before the first import of a Qt module.
os.environ["QT_QPA_PLATFORM"] = _platform_from_argv() or os.environ.get("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import numpy as np  # noqa: E402

import bench_common as common  # noqa: E402  (puts the repository root on sys.path)

from workbench import spec as S  # noqa: E402

PROBE_MS = 10
TARGET_P99_MS = 50.0
TARGET_RATIO = 0.80
FOREIGN_LIMIT = 0.25  # cores other processes may use during a block of a clean round
WINDOW_SIZE = (1600, 1000)


# ---------------------------------------------------------------------------
# experiments


@dataclass(frozen=True)
class Case:
    name: str
    epochs: int
    quick_epochs: int
    description: str


CASES = {
    "medium": Case("medium", 4, 1, "MLP 784-256-128-10 ReLU, softmax CE, Adam, batch 128, 60 000 random samples"),
    "spirals": Case("spirals", 3000, 300, "default experiment: two spirals (400 samples), 2-16-16-1 tanh, Adam, batch 32"),
}


def random_dataset(n: int = 60_000, d: int = 784, k: int = 10, seed: int = 0):
    """The medium case's data: a real :class:`workbench.data.Dataset` holding random
    float32 features in [0, 1) and random labels, no validation or test split."""
    from workbench.data.dataset import Dataset

    rng = np.random.default_rng(seed)
    X = rng.random((n, d), dtype=np.float32)
    y = rng.integers(0, k, n, dtype=np.int64)
    return Dataset(
        X_train=X,
        y_train=y,
        X_val=np.empty((0, d), np.float32),
        y_val=np.empty(0, np.int64),
        X_test=np.empty((0, d), np.float32),
        y_test=np.empty(0, np.int64),
        task="classification",
        n_classes=k,
        feature_names=tuple(f"x{i + 1}" for i in range(d)),
        class_names=tuple(str(i) for i in range(k)),
        raw_feature_names=tuple(f"x{i + 1}" for i in range(d)),
        description="random benchmark data",
    )


def medium_spec(epochs: int) -> S.ExperimentSpec:
    # The data spec only names the set: the window is handed the random Dataset above
    # through its data-set cache, the headless runner gets it directly.
    data = S.DataSpec(source="csv", csv_path="benchmark-random-784.csv", target_column="label",
                      val_fraction=0.0, test_fraction=0.0, scaling="none")
    arch = S.ArchitectureSpec(layers=(S.LayerSpec(units=256, activation="relu", init="he_uniform"),
                                      S.LayerSpec(units=128, activation="relu", init="he_uniform")))
    return S.ExperimentSpec(
        name="medium benchmark",
        data=data,
        architecture=arch,
        optimizer=S.OptimizerSpec(kind="adam", lr=1e-3),
        early_stopping=S.EarlyStoppingSpec(enabled=False),
        training=S.TrainingSpec(epochs=epochs, batch_size=128, seed=0),
    )


def spirals_spec(epochs: int) -> S.ExperimentSpec:
    base = S.ExperimentSpec()
    return S.replace(base, "", training=S.replace(base.training, "training", epochs=epochs))


def make_case(name: str, epochs: int):
    """``(spec, dataset)`` of a case."""
    if name == "medium":
        return medium_spec(epochs), random_dataset()
    from workbench.data import load_dataset

    spec = spirals_spec(epochs)
    return spec, load_dataset(spec.data)


# ---------------------------------------------------------------------------
# runs


def run_headless(spec, dataset) -> dict:
    """What ``mlp-workbench run`` does (without printing)."""
    from workbench.build import build_run
    from workbench.history import Recorder

    t0 = time.perf_counter()
    c0 = time.thread_time()
    run = build_run(spec, dataset, emit_batches=False)
    rec = Recorder(spec)
    for event in run.events():
        rec.add(event)
    result = rec.result(weights=run.network.params)
    secs = time.perf_counter() - t0
    n = _samples(spec, dataset, result)
    return {"seconds": secs, "samples": n, "samples_per_s": n / secs, "status": result.status,
            "main_thread_cpu_s": time.thread_time() - c0}


def _samples(spec, dataset, result) -> int:
    return len(result.history.get("epoch", ())) * int(dataset.X_train.shape[0])


def _percentiles(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"n": 0}
    a = np.asarray(values_ms)
    return {
        "n": int(a.size),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
        "mean": float(a.mean()),
    }


class Probe:
    """A 10 ms single-shot precise ``QTimer`` re-armed on every tick; records lateness."""

    def __init__(self, interval_ms: int = PROBE_MS):
        from PySide6.QtCore import QTimer, Qt

        self.interval = interval_ms
        self.late_ms: list[float] = []
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._armed = 0.0
        self.running = False

    def start(self) -> None:
        self.late_ms.clear()
        self.running = True
        self._arm()

    def stop(self) -> None:
        self.running = False
        self.timer.stop()

    def _arm(self) -> None:
        self._armed = time.perf_counter()
        self.timer.start(self.interval)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late_ms.append(max(0.0, (now - self._armed) * 1e3 - self.interval))
        if self.running:
            self._arm()


def make_window(spec, dataset, settings_dir: str):
    """A shown ``MainWindow`` at 1600x1000 holding ``spec`` with ``dataset`` loaded."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from workbench.ui import main_window as mw

    mw.ask_save_changes = lambda parent, name: "discard"  # never block on a dialog
    settings = QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.Format.IniFormat)
    win = mw.MainWindow(settings=settings)
    # hand the window the data set through its cache (the benchmark data exist in memory only)
    win._dataset_cache[(spec.data, str(win._base_dir()))] = dataset
    win.set_spec(spec, "benchmark experiment")
    win.resize(*WINDOW_SIZE)
    win.show()
    app = QApplication.instance()
    for _ in range(5):
        app.processEvents()
    return win


def run_window(spec, dataset, *, batches: bool, settings_dir: str, profile: Optional[str] = None) -> dict:
    """Train ``spec`` in a shown window with the probe running; the GUI thread only
    runs the event loop."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    win = make_window(spec, dataset, settings_dir)
    win.act_batches.setChecked(batches)
    probe = Probe()
    costs: list[float] = []
    out: dict = {}
    loop = QEventLoop()

    def started():
        worker = win.worker
        ack = worker.acknowledge

        def acknowledge(cost, _ack=ack):
            costs.append(cost)
            _ack(cost)

        worker.acknowledge = acknowledge  # the window calls it from Python

    def finished(result):
        out["t1"] = time.perf_counter()
        out["result"] = result
        probe.stop()
        loop.quit()

    win.run_started.connect(started)
    win.run_finished.connect(finished)
    win.run_failed.connect(lambda msg: (out.setdefault("error", msg), loop.quit()))
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile(time.thread_time)
        prof.enable()
    c0 = time.thread_time()
    probe.start()
    t0 = time.perf_counter()
    if not win.start_run():
        raise RuntimeError("the window did not start the run")
    worker = win.worker
    QTimer.singleShot(600_000, loop.quit)  # a hung run ends the benchmark, not the machine
    loop.exec()
    cpu = time.thread_time() - c0
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    if "error" in out:
        raise RuntimeError(out["error"])
    result = out["result"]
    secs = out["t1"] - t0
    n = _samples(spec, dataset, result)
    emissions = worker.emissions if worker is not None else None
    frames = dict(getattr(win, "frame_stats", {}) or {})
    held = getattr(worker, "held_seconds", None)
    win.close()
    win.deleteLater()
    for _ in range(3):
        app.processEvents()
    gc.collect()  # here, in the GUI thread, not in the next run's worker thread
    return {
        "seconds": secs,
        "samples": n,
        "samples_per_s": n / secs,
        "status": result.status,
        "lateness_ms": _percentiles(probe.late_ms),
        "frame_cost_ms": _percentiles([1e3 * c for c in costs]),  # as acknowledged to the worker
        "updates": emissions,
        "updates_per_s": (emissions / secs) if emissions else None,
        "frames": frames.get("frames"),
        "frames_held_s": frames.get("held_seconds"),
        "worker_held_s": held,
        "gui_thread_cpu_s": cpu,
        "gui_thread_cpu_share": cpu / secs,
    }


def measure_repaint(spec, dataset, result, settings_dir: str, repeats: int = 15) -> dict:
    """Synchronous repaint time of the whole window and of the curves panel after the
    run (its curves loaded, as a reopened file shows them)."""
    from PySide6.QtWidgets import QApplication

    from workbench.ui import main_window as mw

    app = QApplication.instance()
    win = make_window(spec, dataset, settings_dir)
    win.curves.load_result(result)
    if result.weights is not None:
        win._show_boundary_from_weights(result)
    if spec.training.batch_size and dataset.X_train.shape[0] > 10_000:
        # the medium case: a batch-loss history of the whole run too
        from workbench.engine.events import BatchEnd

        per_epoch = math.ceil(dataset.X_train.shape[0] / spec.training.batch_size)
        rng = np.random.default_rng(0)
        events = [BatchEnd(epoch=e + 1, batch=b, step=e * per_epoch + b + 1, loss=float(2.3 - 0.1 * e + 0.05 * rng.random()))
                  for e in range(len(result.history["epoch"])) for b in range(per_epoch)]
        win.act_batches.setChecked(True)
        win.curves.add_batches(events)
    for _ in range(5):
        app.processEvents()

    def timed(fn) -> float:
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return 1e3 * statistics.median(ts)

    out = {
        "window_ms": timed(win.repaint),
        "curves_ms": timed(win.curves._glw.viewport().repaint),
        "boundary_ms": timed(win.boundary._pw.viewport().repaint) if win.boundary.isVisible() else None,
    }
    win.close()
    win.deleteLater()
    app.processEvents()
    gc.collect()
    del mw
    return out


# ---------------------------------------------------------------------------


def bench_case(case: Case, rounds: int, epochs: int, variants: list[str], settings_dir: str,
               profile: Optional[str], log, quiet: Optional[float] = 0.25) -> dict:
    spec, dataset = make_case(case.name, epochs)
    log(f"== {case.name}: {case.description}; {epochs} epochs x {dataset.X_train.shape[0]} samples")
    # warm-up: imports, BLAS threads, first window
    warm_spec = S.replace(spec, "", training=S.replace(spec.training, "training", epochs=1))
    run_headless(warm_spec, dataset)
    run_window(warm_spec, dataset, batches=False, settings_dir=settings_dir)
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    meter = common.CpuMeter()
    for r in range(rounds):
        k0 = r % len(variants)
        for v in variants[k0:] + variants[:k0]:
            time.sleep(common.PAUSE)
            if quiet is not None:
                common.wait_quiet(quiet, probe=0.5, timeout=120)
            meter.start()
            if v == "headless":
                m = run_headless(spec, dataset)
            else:
                prof = f"{profile}.{case.name}.{v}.{r}.prof" if profile else None
                m = run_window(spec, dataset, batches=(v == "window+batches"), settings_dir=settings_dir, profile=prof)
            m["foreign_load"] = meter.stop()
            runs[v].append(m)
            extra = ""
            if "lateness_ms" in m:
                lat = m["lateness_ms"]
                extra = (f", lateness p50 {lat['p50']:.1f} p99 {lat['p99']:.1f} max {lat['max']:.1f} ms, "
                         f"{m['updates']} updates, {m['frames']} frames holding the worker "
                         f"{m['worker_held_s'] or 0:.2f} s, GUI CPU {100 * m['gui_thread_cpu_share']:.0f} %")
            log(f"  round {r + 1} {v:15s} {m['samples_per_s']:>10,.0f} samples/s in {m['seconds']:.2f} s"
                f" (others {m['foreign_load'] or 0:.2f} cores){extra}")

    # rounds in which other processes stayed below FOREIGN_LIMIT cores in every block: a
    # busy neighbour slows a 2-thread BLAS run several times over, which says nothing
    # about the window
    clean = [r for r in range(rounds)
             if all((runs[v][r]["foreign_load"] or 0.0) <= FOREIGN_LIMIT for v in variants)]
    used = clean or list(range(rounds))
    if not clean:
        log(f"  (no round without other load above {FOREIGN_LIMIT} cores: using all rounds)")
    summary: dict = {}
    for v in variants:
        if v == "headless":
            continue
        ratios = [runs[v][r]["samples_per_s"] / runs["headless"][r]["samples_per_s"] for r in used]
        lat_all = [runs[v][r]["lateness_ms"] for r in used]
        vruns = [runs[v][r] for r in used]
        summary[v] = {
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "lateness_p99_median_ms": statistics.median(l["p99"] for l in lat_all),
            "lateness_p99_worst_ms": max(l["p99"] for l in lat_all),
            "lateness_p95_median_ms": statistics.median(l["p95"] for l in lat_all),
            "lateness_p50_median_ms": statistics.median(l["p50"] for l in lat_all),
            "lateness_max_ms": max(l["max"] for l in lat_all),
            "frames_per_s": statistics.median((m["frames"] or 0) / m["seconds"] for m in vruns),
            "worker_held_share": statistics.median((m["worker_held_s"] or 0.0) / m["seconds"] for m in vruns),
            "updates_per_s": statistics.median((m["updates_per_s"] or 0.0) for m in vruns),
            "gui_thread_cpu_share": statistics.median(m["gui_thread_cpu_share"] for m in vruns),
            "rounds_used": used,
        }
        s = summary[v]
        s["meets_latency"] = s["lateness_p99_median_ms"] < TARGET_P99_MS
        s["meets_throughput"] = s["ratio_median"] >= TARGET_RATIO
    # repaint cost with the finished run's curves
    from workbench.build import build_run
    from workbench.history import Recorder

    rspec = spec if case.name == "medium" else S.replace(spec, "", training=S.replace(spec.training, "training", epochs=min(epochs, 2000)))
    if case.name == "medium":
        rspec = S.replace(spec, "", training=S.replace(spec.training, "training", epochs=2))
    run = build_run(rspec, dataset, emit_batches=False)
    rec = Recorder(rspec)
    for ev in run.events():
        rec.add(ev)
    repaint = measure_repaint(rspec, dataset, rec.result(weights=run.network.params), settings_dir)
    log(f"  repaint: window {repaint['window_ms']:.1f} ms, curves {repaint['curves_ms']:.1f} ms"
        + (f", boundary {repaint['boundary_ms']:.1f} ms" if repaint["boundary_ms"] is not None else ""))
    for v, s in summary.items():
        log(f"  {v}: throughput {100 * s['ratio_median']:.0f} % of headless (min {100 * s['ratio_min']:.0f} %), "
            f"lateness p99 {s['lateness_p99_median_ms']:.1f} ms (worst {s['lateness_p99_worst_ms']:.1f}), "
            f"max {s['lateness_max_ms']:.1f} ms, {s['frames_per_s']:.1f} frames/s holding the worker "
            f"{100 * s['worker_held_share']:.0f} % of the run, GUI thread CPU {100 * s['gui_thread_cpu_share']:.0f} %"
            f" [rounds {','.join(str(r + 1) for r in s['rounds_used'])}]  -> "
            f"{'OK' if s['meets_latency'] and s['meets_throughput'] else 'MISSED'}")
    return {"case": case.description, "epochs": epochs, "n_train": int(dataset.X_train.shape[0]),
            "clean_rounds": clean, "runs": runs, "summary": summary, "repaint_ms": repaint}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=[*CASES, "all"], default="all")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, help="override the case's epochs")
    p.add_argument("--variants", default="headless,window,window+batches",
                   help="comma-separated; 'headless' is always included")
    p.add_argument("--quick", action="store_true", help="few epochs, one round (a smoke run)")
    p.add_argument("--platform", help="QT_QPA_PLATFORM (default offscreen)")
    p.add_argument("--profile", metavar="PREFIX", help="cProfile the GUI thread of every window run to PREFIX.*.prof")
    p.add_argument("--out", default="ui_responsiveness", help="results/NAME.json (empty: do not write)")
    p.add_argument("--no-wait", action="store_true",
                   help=f"do not wait before each block until other processes use < {FOREIGN_LIMIT} cores")
    args = p.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["ui_responsiveness"])
    app.setApplicationName("mlp-workbench-benchmark")
    variants = ["headless"] + [v for v in args.variants.split(",") if v and v != "headless"]
    rounds = 1 if args.quick else args.rounds
    names = list(CASES) if args.case == "all" else [args.case]
    env = common.environment()
    env["qt_platform"] = os.environ.get("QT_QPA_PLATFORM")
    env["switch_interval_s"] = sys.getswitchinterval()
    print(f"platform {env['qt_platform']}, {common.cpu_model()}, {env['cpu_count']} cores, "
          f"BLAS {common.blas_summary(env)}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            case = CASES[name]
            epochs = args.epochs or (case.quick_epochs if args.quick else case.epochs)
            results[name] = bench_case(case, rounds, epochs, variants, tmp, args.profile,
                                       lambda s: print(s, flush=True), None if args.no_wait else FOREIGN_LIMIT)
    payload = {
        "benchmark": "ui_responsiveness",
        "targets": {"lateness_p99_ms": TARGET_P99_MS, "throughput_ratio": TARGET_RATIO, "probe_ms": PROBE_MS},
        "window_size": WINDOW_SIZE,
        "rounds": rounds,
        "environment": env,
        "cases": results,
    }
    if args.out:
        path = common.write_json(args.out, payload)
        print(f"written {path}")
    ok = all(s["meets_latency"] and s["meets_throughput"]
             for r in results.values() for v, s in r["summary"].items())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
