"""Fixtures shared by the GUI tests."""

import pytest


@pytest.fixture
def view(qtbot):
    """A decision-boundary view, 500 x 450."""
    from workbench.ui.plots import BoundaryView

    v = BoundaryView()
    qtbot.addWidget(v)
    v.resize(500, 450)
    return v
