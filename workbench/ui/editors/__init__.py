"""One editor per section of the experiment spec; the window wraps each in a dock.

See :class:`base.SpecEditor` for the shared contract (``edited``, ``set_value``,
``value``, ``set_running``) and :class:`base.Row` for the declarative field tables.
"""

from .architecture import ArchitectureEditor
from .base import EditorDock, Row, SpecEditor
from .data import DataEditor
from .early_stopping import EarlyStoppingEditor
from .optimizer import OptimizerEditor
from .regularization import RegularizationEditor
from .schedule import ScheduleEditor
from .training import TrainingEditor

#: every editor, by the spec section it edits, in the window's order
EDITORS = {
    "data": DataEditor,
    "architecture": ArchitectureEditor,
    "optimizer": OptimizerEditor,
    "regularization": RegularizationEditor,
    "schedule": ScheduleEditor,
    "early_stopping": EarlyStoppingEditor,
    "training": TrainingEditor,
}

__all__ = ["EDITORS", "EditorDock", "Row", "SpecEditor", *(cls.__name__ for cls in EDITORS.values())]
