"""The big one-line read-out above the curves: epoch, losses and the metric."""

from __future__ import annotations

import math
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from workbench.engine.events import EpochEnd

from .style import BLUE, ORANGE, base_font


def fmt_duration(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``; "–" when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_loss(value: Optional[float]) -> str:
    """Four decimals from 1e-3 to 1e5, scientific notation outside; "–" when unknown."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.4f}" if 1e-3 <= abs(value) < 1e5 else f"{value:.3e}"


class ReadOut(QLabel):
    """The big one-line read-out of the current epoch and losses above the curves."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("readOut")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setContentsMargins(10, 4, 10, 4)
        # a long line is clipped, it never widens the window's central area
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        # sizes derive from the application font at creation, so presentation mode
        # (which scales the application font) and back restores them exactly
        self._base = base_font()
        self.scale = 1.35
        self.colors = {"train": BLUE, "val": ORANGE}
        self.clear_values()

    def set_colors(self, train: str, val: str) -> None:
        """The colours of the train / validation keys (those of the curves)."""
        self.colors = {"train": train, "val": val}

    def set_scale(self, scale: float) -> None:
        """Font size = ``scale`` x the base application font."""
        self.scale = scale
        font = QFont(self._base)
        font.setPointSizeF(self._base.pointSizeF() * scale)
        self.setFont(font)

    def clear_values(self, text: str = "Ready — press Run (F5)") -> None:
        self.setText(text)

    def show_epoch(self, epoch: int, total: int, ev: EpochEnd, metric: Optional[tuple[str, float]] = None,
                   phase: str = "train", note: str = "") -> None:

        parts = [f"<b>Epoch {epoch}</b> / {total}" if phase == "train" else f"<b>{phase} {epoch}</b>"]
        parts.append(f"<span style='color:{self.colors['train']}'>■</span> train loss <b>{fmt_loss(ev.train_loss)}</b>")
        if ev.val_loss is not None:
            parts.append(f"<span style='color:{self.colors['val']}'>■</span> val loss <b>{fmt_loss(ev.val_loss)}</b>")
        if metric is not None:
            name, value = metric
            if math.isfinite(value):
                shown = f"{100 * value:.1f} %" if "accuracy" in name else f"{value:.3f}"
                label = name.replace("_accuracy", " acc").replace("_r2", " R²").replace("_", " ")
                parts.append(f"{label} <b>{shown}</b>")
        if note:
            parts.append(f"<i>{note}</i>")
        self.setText("&nbsp;&nbsp;&nbsp;".join(parts))

