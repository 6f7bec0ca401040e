"""Settings docks: each edits one part of the experiment spec and emits the new value.

See ``base.SpecDock`` for the shared contract (``edited``, ``set_value``, ``value``,
``set_running``).
"""

from .architecture_dock import ArchitectureDock
from .base import LOCK_TEXT, SpecDock
from .data_dock import DataDock
from .early_stopping_dock import EarlyStoppingDock
from .optimizer_dock import OptimizerDock
from .regularization_dock import RegularizationDock
from .schedule_dock import ScheduleDock
from .training_dock import TrainingDock

ALL_DOCKS = (
    DataDock,
    ArchitectureDock,
    OptimizerDock,
    RegularizationDock,
    ScheduleDock,
    EarlyStoppingDock,
    TrainingDock,
)

__all__ = [
    "SpecDock",
    "LOCK_TEXT",
    "DataDock",
    "ArchitectureDock",
    "OptimizerDock",
    "RegularizationDock",
    "ScheduleDock",
    "EarlyStoppingDock",
    "TrainingDock",
    "ALL_DOCKS",
]
