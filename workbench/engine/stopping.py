"""Early stopping: patience, min_delta, best weights (seed 000 section 2.3, seed 001).

Keep the best parameters seen so far and stop once the monitored value has failed
to improve for ``patience`` consecutive epochs.  Epochs are 1-based.

* Improvement (mode ``min``): value < best - min_delta;  (mode ``max``): value > best + min_delta.
  ``auto`` is ``max`` for accuracy and r2 monitors, ``min`` otherwise (losses, rmse).
  The first counted finite value always improves on the initial best (+inf / -inf).
  A NaN value never improves (it is a non-improving epoch).
* ``start_epoch``: epochs with ``epoch < start_epoch`` are ignored entirely, as Keras'
  ``start_from_epoch`` does: they neither count toward patience nor become the best
  epoch (their weights are not kept).  ``start_epoch`` is the first monitored epoch;
  0 and 1 both monitor every epoch (Keras ``start_from_epoch=k`` is ``start_epoch=k+1``).
* ``update`` returns True once ``patience`` consecutive counted epochs have not
  improved (patience 0: at the first one) and records ``stopped_epoch``.
* On improvement the parameters are copied into ``best_params``, a buffer
  allocated once and reused; :meth:`restore` copies them back when ``restore_best``.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

MODES = ("auto", "min", "max")


def resolve_mode(monitor: str, mode: str = "auto") -> str:
    """``min`` or ``max``: ``auto`` is ``max`` for accuracy / r2 monitors, ``min`` otherwise."""
    if mode != "auto":
        return mode
    name = monitor.lower()
    return "max" if ("accuracy" in name or name.endswith("r2")) else "min"


class EarlyStopping:
    """Patience-based early stopping with best-weight bookkeeping (see the module docstring).

    Attributes: ``best_epoch`` (0 until an improvement), ``best_value`` (None until
    then), ``best_params`` (None until then), ``stopped_epoch`` (0 until stopping),
    ``wait`` (consecutive non-improving counted epochs), ``mode`` (resolved: min/max).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 10,
        min_delta: float = 0.0,
        start_epoch: int = 0,
        restore_best: bool = True,
    ):
        if mode not in MODES:
            raise ValueError(f"mode: must be one of {', '.join(MODES)}, got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience: must be an integer >= 0, got {patience!r}")
        if isinstance(start_epoch, bool) or not isinstance(start_epoch, (int, np.integer)) or start_epoch < 0:
            raise ValueError(f"start_epoch: must be an integer >= 0, got {start_epoch!r}")
        min_delta = float(min_delta)
        if not (0.0 <= min_delta < math.inf):
            raise ValueError(f"min_delta: must be >= 0 and finite, got {min_delta!r}")
        self.monitor = str(monitor)
        self.mode = resolve_mode(self.monitor, mode)
        self.patience = int(patience)
        self.min_delta = min_delta
        self.start_epoch = int(start_epoch)
        self.restore_best = bool(restore_best)
        self.best_params: Optional[np.ndarray] = None
        self.reset()

    def reset(self) -> None:
        """Forget the history (the ``best_params`` buffer is kept for reuse)."""
        self.best_epoch = 0
        self.best_value: Optional[float] = None
        self.stopped_epoch = 0
        self.wait = 0
        self._has_best = False

    def improves(self, value: float) -> bool:
        """Whether ``value`` is an improvement on the best so far (NaN never is)."""
        if math.isnan(value):
            return False
        if not self._has_best:
            return math.isfinite(value) or (value == -math.inf if self.mode == "min" else value == math.inf)
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def update(self, epoch: int, value: float, params: np.ndarray) -> bool:
        """Record the monitored ``value`` after 1-based ``epoch``; True means stop now."""
        if epoch < self.start_epoch:
            return False
        value = float(value)
        if self.improves(value):
            self.best_value = value
            self.best_epoch = int(epoch)
            self._has_best = True
            self.wait = 0
            if self.best_params is None or self.best_params.shape != params.shape or self.best_params.dtype != params.dtype:
                self.best_params = np.empty_like(params)
            np.copyto(self.best_params, params)
            return False
        self.wait += 1
        if self.wait >= self.patience:
            if not self.stopped_epoch:
                self.stopped_epoch = int(epoch)
            return True
        return False

    def restore(self, params: np.ndarray) -> bool:
        """Copy the best parameters back into ``params`` (in place) if ``restore_best``
        and a best epoch exists; returns whether it did."""
        if not self.restore_best or not self._has_best or self.best_params is None:
            return False
        np.copyto(params, self.best_params)
        return True

    def __repr__(self) -> str:
        return (
            f"<EarlyStopping {self.monitor} {self.mode} patience={self.patience} "
            f"best_epoch={self.best_epoch} wait={self.wait}>"
        )
