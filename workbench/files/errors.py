"""The errors of reading and writing experiment files: every failure is an
:class:`ExperimentFileError` whose lines name the JSON path and the bad value."""

from __future__ import annotations

from typing import Optional

from ..limits import MAX_REPORTED_ERRORS, MAX_SAVED_PARAMETERS
from ..spec import SpecError


class ExperimentFileError(SpecError):
    """An experiment file cannot be read (or written).

    ``errors`` is a list of ``(path, message)`` pairs, the path being the dotted JSON
    path (``spec.optimizer.lr``) or ``""`` for the file as a whole; ``str()`` gives
    one line per error.  ``source`` names the file (or ``"<string>"``).
    """

    def __init__(self, errors: list[tuple[str, str]], source: str = "<string>"):
        errors = list(errors)
        if len(errors) > MAX_REPORTED_ERRORS:
            more = len(errors) - MAX_REPORTED_ERRORS
            errors = errors[:MAX_REPORTED_ERRORS] + [("", f"... and {more} more problems")]
        self.source = source
        super().__init__(errors)


class WeightsTooLarge(ExperimentFileError):
    """The run's trained weights are more than a file stores (:data:`MAX_SAVED_PARAMETERS`),
    or the weights of several runs together leave no room for them in one file
    (``runs`` > 1: ``limit`` is then how many the file has room for beside everything
    else); ``save(..., without_weights=True)`` saves everything else.  ``n_params`` and
    ``limit`` give the numbers."""

    def __init__(self, n_params: int, source: str = "<string>", path: str = "runs.0.result.weights",
                 runs: int = 1, limit: Optional[int] = None):
        self.n_params = int(n_params)
        self.limit = MAX_SAVED_PARAMETERS if limit is None else int(limit)
        if limit is None:
            message = (f"the trained weights have {self.n_params:,} parameters, more than the "
                       f"{self.limit:,} an experiment file stores; save without weights")
        else:
            message = (f"the trained weights of {runs} runs, {self.n_params:,} parameters in all, are more than "
                       f"the {self.limit:,} the file has room for beside the runs' curves; save without weights")
        super().__init__([(path, message)], source)


class ReadOnlyFile(ExperimentFileError):
    """The file to be replaced is read-only; ``save(..., overwrite_readonly=True)``
    replaces it all the same (keeping its mode).  ``path`` and ``mode`` say which."""

    def __init__(self, path: str, mode: int):
        self.path = path
        self.mode = mode
        super().__init__([("", f"{path} is read-only (mode {mode:04o})")], path)
