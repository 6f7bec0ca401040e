"""Read-backs of what a CurvesPanel draws: tests ask the drawing items themselves, not the
panel's own bookkeeping (a test that reads back its own input cannot fail)."""

from __future__ import annotations

import numpy as np

from workbench.ui.plots.curves import CURVE_NAMES


def curve_data(panel, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``(x, y)`` last handed to the named curve (see ``CURVE_NAMES``; the
    metric curves hold the current metric kind)."""
    if name not in panel._curves:
        raise KeyError(f"unknown curve {name!r}; one of {CURVE_NAMES}")
    x, y = panel._curves[name].getOriginalDataset()
    if x is None:
        return np.empty(0), np.empty(0)
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def marker_items(panel) -> list[tuple[str, float]]:
    """``(kind, epoch)`` of every drawn marker, read back from what draws it."""
    return panel.markers.items()


def marker_labels(panel) -> list[tuple[float, str, bool]]:
    """``(epoch, text, visible)`` of every labelled marker line."""
    return [(rec["epoch"], rec["text"], rec["lines"][0].label.isVisible())
            for rec in panel.markers.records if rec["lines"] and rec["lines"][0].label is not None]


def early_stop_items(panel):
    """``(best_epoch, stopped_epoch)`` read from the drawn lines (the stop line is the
    best line when early stopping did not fire), or None."""
    es = panel.early_stop
    if es.summary is None:
        return None
    best = float(es.best[0].value())
    return best, float(es.stop[0].value()) if es.stop else best


def early_stop_region(panel):
    """The shaded patience window ``(start, end)`` on the loss plot, or None."""
    es = panel.early_stop
    if not es.regions:
        return None
    lo, hi = es.regions[0].getRegion()
    return float(lo), float(hi)


def early_stop_texts(panel) -> list[str]:
    """Plain texts of the early-stopping labels (best line, stop line)."""
    es = panel.early_stop
    return [ln[0].label.toPlainText() for ln in (es.best, es.stop) if ln]


def early_stop_symbol(panel):
    """(plot, x, y) of the best-epoch star, or None when none is drawn."""
    es = panel.early_stop
    if es.symbol is None:
        return None
    x, y = es.symbol.getData()
    if x is None or not len(x):
        return None
    return es.symbol_plot, float(x[0]), float(y[0])


def message_text(panel) -> str:
    message = panel._message
    if message is None or not message.isVisible():
        return ""
    return message.toPlainText()


def current_pen_width(panel) -> float:
    return float(panel._curves["train_loss"].opts["pen"].widthF())


def current_font_point_size(panel) -> float:
    return float(panel.loss_plot.getAxis("left").style["tickFont"].pointSizeF())


def plan_shown(panel) -> bool:
    return panel._curves["planned_lr"].isVisible()


def readout_text(panel) -> str:
    """The read-out line above the plots, as plain text."""
    return panel._readout.item.toPlainText().replace("\xa0", " ")


def is_live(panel) -> bool:
    """Whether the panel is in its live (training) view: live ranges, no antialiasing."""
    return panel.ranges.live


def lr_log_scale(panel) -> bool:
    """Whether the learning-rate plot's y axis is drawn logarithmic."""
    return bool(panel.lr_plot.getAxis("left").logMode)
