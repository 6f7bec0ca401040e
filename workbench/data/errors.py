"""The one exception type of :mod:`workbench.data`."""

from __future__ import annotations


class DataError(ValueError):
    """Data could not be generated, read or split.

    The message is meant for the user: it names the spec field
    (``data.csv_path: file not found: ...``) or the place in a file
    (``line 7, column 'petal_width': missing value ('NA')``; lines are 1-based,
    as a text editor counts them, and columns are named by their header).
    """


class MissingValueError(DataError):
    """A missing value where none is allowed (``missing="refuse"``); the message names
    the line and column: ``line 4, column 'b': missing value ('NA'); fill it in or remove
    the row``.  ``load_dataset`` adds the ``data.missing`` alternatives and raises it as a
    plain :class:`DataError`."""
