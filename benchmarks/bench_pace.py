"""How closely :class:`workbench.pace.Pace` keeps its rate, on the real clock.

    python benchmarks/bench_pace.py [--seconds 4] [--rates 1,3,10,30,100] [--interrupts 20]

For each offered pace ``R`` (``workbench.spec.PACES``), a loop calls ``before_epoch()``
and then runs a trivial "epoch" (a sum over 1000 floats) for about ``--seconds``
seconds, with the real clock and the real :class:`~workbench.pace.EventWaiter`.  Reported:

* ``achieved``: (epochs - 1) / (last start - first start), and its error against ``R``;
* ``lateness``: how long after its slot an epoch started (the slots replayed from the
  pace's rule: ``t0 + k / R``, re-anchored where the rule re-anchors; never negative:
  the pace never starts an epoch early), median and worst;
* ``min gap``: the shortest time between two starts, in periods (the no-burst rule
  guarantees >= 1 - LATE_SLACK = 0.75);
* ``re-anchors``: starts more than ``LATE_SLACK`` periods after their slot (the pace
  then plans on from that moment: each costs the achieved rate up to that delay).

Then ``--interrupts`` times a worker thread blocks in ``before_epoch`` at 1 epoch/s and
the main thread calls ``interrupt()``: the time until ``before_epoch`` returns (what a
Pause or Stop waits for), median and worst.  Foreign CPU load (other processes on this
shared machine) is printed with each row; the numbers are from one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import CpuMeter, table  # noqa: E402
from workbench.pace import LATE_SLACK, EventWaiter, Pace  # noqa: E402
from workbench.spec import PACES  # noqa: E402


def measure_rate(rate: float, seconds: float, clock=time.perf_counter) -> dict:
    """Run ``rate * seconds + 1`` paced trivial epochs; return the figures of one row."""
    pace = Pace(rate)  # the real monotonic clock and Event waiter
    work = np.ones(1000)
    n = max(3, int(round(rate * seconds)) + 1)
    starts = []
    meter = CpuMeter()
    meter.start()
    for _ in range(n):
        pace.before_epoch()
        starts.append(clock())
        work.sum()  # the trivial epoch
    load = meter.stop()
    period = 1.0 / rate
    # replay the pace's rule (workbench.pace, rules 1-2) to find its slots and re-anchors
    late, reanchors, t0, k = [], 0, starts[0], 0
    for s in starts[1:]:
        slot = t0 + (k + 1) * period
        late.append(s - slot)
        if s - slot > LATE_SLACK * period:
            reanchors, t0, k = reanchors + 1, s, 0
        else:
            k += 1
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    return {
        "rate": rate,
        "epochs": n,
        "achieved": (n - 1) / (starts[-1] - starts[0]),
        "late_median": statistics.median(late),
        "late_max": max(late),
        "min_gap_periods": min(gaps) / period,
        "reanchors": reanchors,
        "load": load,
    }


def measure_interrupts(count: int) -> list[float]:
    """Latency of ``interrupt()`` waking a worker blocked at 1 epoch/s, ``count`` times."""

    class Signalling(EventWaiter):
        def __init__(self):
            super().__init__()
            self.entered = threading.Event()

        def wait(self, timeout):
            self.entered.set()
            return super().wait(timeout)

    out = []
    for _ in range(count):
        waiter = Signalling()
        pace = Pace(1.0, waiter=waiter)
        woke = []

        def worker():
            pace.before_epoch()
            pace.before_epoch()
            woke.append(time.perf_counter())

        t = threading.Thread(target=worker, daemon=True)
        t.start()
        waiter.entered.wait(10)
        time.sleep(0.05)  # let it block in the wait proper
        t_int = time.perf_counter()
        pace.interrupt()
        t.join(10)
        out.append(woke[0] - t_int)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="seconds per rate (default 4)")
    ap.add_argument("--rates", default=",".join(f"{r:g}" for r in PACES))
    ap.add_argument("--interrupts", type=int, default=20)
    args = ap.parse_args(argv)
    rows = []
    for rate in (float(r) for r in args.rates.split(",")):
        m = measure_rate(rate, args.seconds)
        rows.append([
            f"{m['rate']:g}",
            str(m["epochs"]),
            f"{m['achieved']:.3f}",
            f"{100 * (m['achieved'] / rate - 1):+.2f} %",
            f"{1e3 * m['late_median']:.2f}",
            f"{1e3 * m['late_max']:.2f}",
            f"{m['min_gap_periods']:.3f}",
            str(m["reanchors"]),
            "n/a" if m["load"] is None else f"{m['load']:.2f}",
        ])
    print(table(rows, ["epochs/s", "epochs", "achieved /s", "error", "lateness median ms",
                       "lateness worst ms", "min gap (periods)", "re-anchors", "foreign load (cores)"]))
    if args.interrupts > 0:
        lat = measure_interrupts(args.interrupts)
        print(f"\ninterrupt() -> before_epoch returns, {len(lat)} times at 1 epoch/s: "
              f"median {1e6 * statistics.median(lat):.0f} us, worst {1e6 * max(lat):.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
