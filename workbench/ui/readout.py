"""The big one-line read-out above the curves: epoch, losses and the metric."""

from __future__ import annotations

import math
import re
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextDocument
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


def metric_label(name: str) -> str:
    """``val_accuracy`` -> ``val acc``, ``test_r2`` -> ``test R²``."""
    return name.replace("_accuracy", " acc").replace("_r2", " R²").replace("_", " ")


def fmt_metric(name: str, value: float) -> str:
    """Accuracy in percent (one decimal), R² with three decimals."""
    return f"{100 * value:.1f} %" if "accuracy" in name else f"{value:.3f}"


_TAG = re.compile(r"<[^>]*>")
_KEPT_TOGETHER = 40  # visible characters


def one_line(parts: list[str]) -> str:
    """The read-out's parts (rich text) side by side: a narrow window wraps the line
    between parts, not inside a short one ("val | acc 58.8 %" was split at 1280x720);
    a long note may still wrap inside."""
    return "&nbsp;&nbsp; ".join(
        f"<span style='white-space:nowrap'>{part}</span>" if len(_TAG.sub("", part)) <= _KEPT_TOGETHER else part
        for part in parts)


#: the room the read-out keeps: a live epoch of a classification run with validation
_TEMPLATE = one_line(["<b>Epoch 10000</b> / 10000", "■ train loss <b>0.0000</b>", "■ val loss <b>0.0000</b>",
                      "val acc <b>100.0 %</b>"])


class ReadOut(QLabel):
    """The big one-line read-out of the current epoch and losses above the curves."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("readOut")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setContentsMargins(10, 4, 10, 4)
        # a long line wraps (it is never cut, and never widens the window's central area)
        self.setWordWrap(True)
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
        self._reserve_height()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._reserve_height()

    def _reserve_height(self) -> None:
        """At least the height of an epoch's line at this width: "Ready" and the live
        epochs then take the same room, and the plots below do not jump when a run starts
        or stops (QA: at 1280x720 the line wrapped onto a second one at Run)."""
        margins = self.contentsMargins()
        width = self.width() - margins.left() - margins.right()
        if width < 100:  # not laid out yet: a word to a line would ask for a tall window
            return
        doc = QTextDocument()
        doc.setDefaultFont(self.font())
        doc.setDocumentMargin(0)
        doc.setHtml(_TEMPLATE)
        doc.setTextWidth(width)
        height = math.ceil(doc.size().height()) + margins.top() + margins.bottom()
        if height != self.minimumHeight():
            self.setMinimumHeight(height)

    def clear_values(self, text: str = "Ready — press Run (F5)") -> None:
        self.setText(text)

    def _losses(self, train_loss: Optional[float], val_loss: Optional[float], metric) -> list[str]:
        parts = [f"<span style='color:{self.colors['train']}'>■</span> train loss <b>{fmt_loss(train_loss)}</b>"]
        if val_loss is not None:
            parts.append(f"<span style='color:{self.colors['val']}'>■</span> val loss <b>{fmt_loss(val_loss)}</b>")
        if metric is not None and metric[1] is not None and math.isfinite(metric[1]):
            parts.append(f"{metric_label(metric[0])} <b>{fmt_metric(*metric)}</b>")
        return parts

    def show_epoch(self, epoch: int, total: int, ev: EpochEnd, metric: Optional[tuple[str, float]] = None,
                   phase: str = "train", note: str = "") -> None:
        """The epoch ``ev`` of ``total`` (during a run, or the last one of a run)."""
        parts = [f"<b>Epoch {epoch}</b> / {total}" if phase == "train" else f"<b>{phase} {epoch}</b>"]
        parts += self._losses(ev.train_loss, ev.val_loss, metric)
        if note:
            parts.append(f"<i>{note}</i>")
        self.setText(one_line(parts))

    def show_result(self, final: dict, restored_epoch: Optional[int], last: Optional[EpochEnd], total: int,
                    note: str = "", followup: Optional[str] = None) -> None:
        """A finished run: the model it ended with (``final``: its train/val/test metrics).
        When early stopping restored the weights of ``restored_epoch``, those are the result
        and the last epoch is shown as such; test-split numbers are marked as held out.
        ``followup`` (``retrain`` / ``continue``): the model is the follow-up phase's, trained
        on train + validation, so its validation numbers are marked as seen in training;
        ``last`` is then the last epoch of the training phase."""
        metric_name = next((n for n in ("val_accuracy", "val_r2", "train_accuracy", "train_r2") if n in final), None)
        metric = (metric_name, final.get(metric_name)) if metric_name else None
        if followup:
            parts = [f"<b>{'Retrained' if followup == 'retrain' else 'Continued'} on train + validation</b>"]
            restored_epoch = None
        elif restored_epoch:
            parts = [f"<b>Weights of epoch {restored_epoch}</b> (restored)"]
        elif last is not None:
            parts = [f"<b>Epoch {last.epoch}</b> / {total}"]
        else:
            parts = ["<b>Result</b>"]
        parts += self._losses(final.get("train_loss"), final.get("val_loss"), metric)
        if followup and len(parts) > 2:
            parts.append("<i>(validation seen in training)</i>")
        test = next(((n, final[n]) for n in ("test_accuracy", "test_r2") if final.get(n) is not None), None)
        if test is not None:
            parts.append(f"<b>{metric_label(test[0])} {fmt_metric(*test)}</b> (held out)")
        if (restored_epoch or followup) and last is not None:
            last_metric = next(((n, last.metrics[n]) for n in ("val_accuracy", "val_r2") if n in last.metrics), None)
            shown = f"{metric_label(last_metric[0])} {fmt_metric(*last_metric)}" if last_metric else \
                f"val loss {fmt_loss(last.val_loss)}"
            parts.append(f"<i>last {'training ' if followup else ''}epoch {last.epoch}: {shown}</i>")
        if note:
            parts.append(f"<i>{note}</i>")
        self.setText(one_line(parts))

