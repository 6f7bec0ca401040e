"""Hovering the curves: a cursor line on every plot at the nearest epoch and the values of
that epoch in the read-out line above the plots (the latest epoch when not hovering)."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg

from workbench.ui import style as st

from .series import fmt

_METRIC_SHORT = {"accuracy": "acc", "r2": "R²"}


class Hover:
    """The cursor lines and the read-out of one panel (rate-limited to 30 moves a second)."""

    def __init__(self, panel, readout: pg.LabelItem):
        self.panel = panel
        self.readout = readout
        self.hovering = False
        self.row: Optional[int] = None  # the read-out's history row (None: the latest)
        self.lines = []
        for p in panel.plots:
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            line.setZValue(20)
            p.addItem(line, ignoreBounds=True)
            self.lines.append(line)
        self._proxy = pg.SignalProxy(panel._glw.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved)

    def reset(self) -> None:
        for line in self.lines:
            line.setVisible(False)
        self.hovering = False
        self.row = None
        self.readout.setText("")

    def _on_mouse_moved(self, args) -> None:
        pos = args[0]
        for p in self.panel.plots:
            if p.vb.sceneBoundingRect().contains(pos):
                self.hovering = True
                self.at(p.vb.mapSceneToView(pos).x())
                return
        self.end()

    def end(self) -> None:
        if self.hovering:
            self.hovering = False
            for line in self.lines:
                line.setVisible(False)
            self.show(None)

    def at(self, x: float) -> str:
        """Show the values at the epoch nearest ``x`` (and return the plain read-out)."""
        b = self.panel._epochs
        if b.n == 0:
            return ""
        epochs = b.view("epoch")
        i = int(np.clip(np.searchsorted(epochs, x), 0, b.n - 1))
        if i > 0 and abs(epochs[i - 1] - x) <= abs(epochs[i] - x):
            i -= 1
        for line in self.lines:
            line.setValue(float(epochs[i]))
            line.setVisible(True)
        return self.show(i)

    def show(self, i: Optional[int]) -> str:
        """Values of history row ``i`` (None: the latest epoch, labelled "latest")."""
        panel = self.panel
        b = panel._epochs
        if b.n == 0:
            self.readout.setText("")
            return ""
        latest = i is None
        self.row = i
        if latest:
            i = b.n - 1
        k = panel.metric_kind()
        short = _METRIC_SHORT[k]
        style = panel.current_style()
        tc = lambda role: st.text_color(st.ROLE_COLORS[role], style.dark).name()  # noqa: E731
        parts = [
            ("latest epoch" if latest else "epoch", f"{int(b.view('epoch')[i])}", style.colors.text),
            ("train loss", fmt(b.view("train_loss")[i]), tc("train")),
            ("val loss", fmt(b.view("val_loss")[i]), tc("val")),
            (f"train {short}", fmt(b.view(f"train_{k}")[i]), tc("train")),
            (f"val {short}", fmt(b.view(f"val_{k}")[i]), tc("val")),
            ("η", fmt(b.view("lr")[i]), tc("lr")),
        ]
        html = " &nbsp; ".join(f"<span style='color:{c}'>{n.replace(' ', '&nbsp;')}&nbsp;<b>{v}</b></span>"
                               for n, v, c in parts)  # (a name never breaks across the wrap)
        self.readout.setText(html, size=f"{panel._pt(0.95):.1f}pt")
        return "  ".join(f"{n} {v}" for n, v, _ in parts)

    def restyle(self) -> None:
        style = self.panel.current_style()
        pen = pg.mkPen(st.with_alpha(style.colors.foreground, 110), width=style.px(1), style=pg.QtCore.Qt.PenStyle.DotLine)
        for line in self.lines:
            line.setPen(pen)
        self.readout.setAttr("color", style.colors.text)
        if self.panel._epochs.n:  # its HTML holds the colours: rebuild it in the new theme's
            self.show(self.row)
        else:
            self.readout.setText(self.readout.text, size=f"{self.panel._pt(0.95):.1f}pt")
