"""The one exception type of :mod:`workbench.data`."""

from __future__ import annotations


class DataError(ValueError):
    """Data could not be generated, read or split.

    The message is meant for the user: it names the spec field
    (``data.csv_path: file not found: ...``) or the place in a file
    (``line 7, column 'petal_width': missing value ('NA')``; lines are 1-based,
    as a text editor counts them, and columns are named by their header).
    """
