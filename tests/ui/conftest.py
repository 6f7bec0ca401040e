"""Fixtures shared by the GUI tests (the window fixtures -- ``settings``, ``dialogs``,
``make_window`` -- are in tests/conftest.py, for the audits outside this folder too)."""

import pytest


@pytest.fixture
def view(qtbot):
    """A decision-boundary view, 500 x 450."""
    from workbench.ui.plots import BoundaryView

    v = BoundaryView()
    qtbot.addWidget(v)
    v.resize(500, 450)
    return v


@pytest.fixture
def window(make_window):
    return make_window()
