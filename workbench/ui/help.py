"""Help → Keyboard shortcuts, What you can switch on, About.

Every page is built from the sources it describes: the shortcuts from the action table
(:mod:`workbench.ui.actions`) and the layer editor's keys, the features from the engine's
and the data's registries, About from the installed versions and the bundled data's
manifest.  Nothing here is kept in step by hand.
"""

from __future__ import annotations

import html
import json
import platform
import sys
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from workbench import spec as S
from workbench.data import BUNDLED, DATASETS_DIR, GENERATORS
from workbench.engine.optimizers import OPTIMIZERS, optimizer_class
from workbench.engine.schedules import KINDS as SCHEDULE_KINDS

from .actions import ACTIONS, shortcut_texts
from .dialogs import APP_NAME
from .editors.architecture import ACTIVATION_LABELS, INIT_LABELS, ArchitectureEditor


def shortcuts_html() -> str:
    """Every keyboard shortcut: the window's actions, then the layer table's."""
    rows = [(spec.text.replace("&", "").rstrip("…"), ", ".join(shortcut_texts(spec)))
            for spec in ACTIONS if spec.shortcut is not None]
    layer_names = {"add": "Add a hidden layer", "insert": "Insert a layer above the selected one",
                   "remove": "Remove the selected layer", "up": "Move the layer towards the input",
                   "down": "Move the layer towards the output", "duplicate": "Duplicate the selected layer"}
    rows += [(f"Architecture: {layer_names[k]}", key) for k, key in ArchitectureEditor.SHORTCUTS.items()]
    body = "".join(f"<tr><td>{html.escape(name)}</td><td><b>{html.escape(keys)}</b></td></tr>" for name, keys in rows)
    return (f"<h3>Keyboard shortcuts</h3><table cellspacing='0' cellpadding='4'>{body}</table>"
            "<p>In a number box: ↑/↓ step the value (η on a 1-2-3-5 grid per decade), Enter or Tab "
            "commits it; Run, Save and the other actions commit a value still being typed.</p>")


def features_html() -> str:
    """What can be switched on, seen and compared (the README's table, from the registries)."""
    def items(values) -> str:
        return ", ".join(html.escape(v) for v in values)

    rows = [
        ("Layers", f"up to {S.MAX_LAYERS} dense layers of up to {S.MAX_UNITS:,} units; activations "
                   f"{items(ACTIVATION_LABELS[a] for a in S.ACTIVATIONS)}; dropout per layer and on the input; "
                   f"initialisers {items(INIT_LABELS[i] for i in S.INITIALIZERS)} (zeros: the symmetry trap)"),
        ("Output &amp; loss", "follows the task: linear + MSE, sigmoid + binary cross-entropy, softmax + "
                              "cross-entropy (log-sum-exp)"),
        ("Optimizers", items(optimizer_class(k).label for k in OPTIMIZERS)
         + "; each with its formula in the Optimizer panel"),
        ("Regularization", "L1, L2 (coupled, reported apart from the data loss), decoupled weight decay, "
                           "dropout (inverted / classic / Monte-Carlo at test time), Gaussian input noise"),
        ("Schedules", items(k.label for k in SCHEDULE_KINDS.values()) + "; a linear warm-up in front of any"),
        ("Early stopping", "monitor, mode, patience, min_delta, start epoch, restore best weights; follow-ups: "
                           "retrain on train+validation, or continue to the best epoch's training loss"),
        ("Live", "η, L1, L2 and weight decay change mid-run (marked on the curves); pause, step one epoch"),
        ("Data", f"generated: {items(GENERATORS)}; bundled: {items(BUNDLED)}; your own CSV file "
                 "(delimiter and decimal mark detected, missing values dropped or filled)"),
    ]
    body = "".join(f"<tr><td valign='top'><b>{name}</b></td><td>{text}</td></tr>" for name, text in rows)
    return f"<h3>What you can switch on</h3><table cellspacing='0' cellpadding='4'>{body}</table>"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_html() -> str:
    """Version, the versions of Python, Qt, PySide6, NumPy, pyqtgraph and pydantic, and the
    licences (the workbench's and the bundled data's)."""
    import numpy
    import pydantic
    import pyqtgraph

    try:
        manifest = json.loads((DATASETS_DIR / "datasets.json").read_text(encoding="utf-8"))
        data_licence = html.escape(manifest.get("licence", ""))
    except (OSError, ValueError):
        data_licence = "see resources/datasets/README.md"
    versions = [
        ("MLP Workbench", _version("mlp-workbench")),
        ("Python", f"{platform.python_version()} ({sys.platform})"),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("NumPy", numpy.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("pydantic", pydantic.VERSION),
    ]
    body = "".join(f"<tr><td>{n}</td><td><b>{html.escape(v)}</b></td></tr>" for n, v in versions)
    sets = ", ".join(html.escape(b.title) for b in BUNDLED.values())
    return (f"<h3>{APP_NAME}</h3><p>Design a multilayer perceptron, train it and watch it learn: "
            "a PySide6 window over a pure-NumPy engine.</p>"
            f"<table cellspacing='0' cellpadding='3'>{body}</table>"
            "<p>Licence: MIT.</p>"
            f"<p>Bundled data sets ({sets}): UCI Machine Learning Repository, {data_licence}; sources and "
            "citations in resources/datasets/README.md.</p>")


class HelpDialog(QDialog):
    """A page of rich text with a Close button (non-modal)."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"{title} — {APP_NAME}")
        self.setObjectName("helpDialog")
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(text)
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(640, 520)
