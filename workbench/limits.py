"""Every bound on what a file, a data set or a setting may ask of this program, in one place.

A bound is checked *before* the memory or time it protects is spent (a file's size
before it is read, a document's element count before the schema library sees it, a
run's memory before its arrays are allocated).  README.md's "Experiment files" section
lists these numbers; change them here and there together.

Plain constants only: this module imports nothing, so every layer (spec, files, data,
engine glue, CLI, window) may read it.
"""

from __future__ import annotations

# -- the experiment (spec) ------------------------------------------------------------
MAX_LAYERS = 32
"""Hidden layers of a network."""
MAX_UNITS = 4096
"""Units of one hidden layer."""
MAX_EPOCHS = 100_000
"""Epochs of one run (also the longest history a file may hold, follow-up included twice)."""
MAX_SAMPLES = 200_000
"""Samples of a generated data set, and data rows of a CSV file."""
MAX_BATCH = 100_000
"""Mini-batch size."""
MAX_SEED = 2**32 - 1
"""Largest seed."""
MAX_TEXT = 10_000
"""Characters of an experiment's description."""
MAX_HISTORY = 2 * MAX_EPOCHS + 16
"""Entries of one history column in a file."""
MAX_PARAMETERS = 50_000_000
"""Parameters of the largest network trained here (float32: 200 MB per copy)."""

# -- experiment files -------------------------------------------------------------------
MAX_FILE_BYTES = 64 * 1024 * 1024
"""An experiment file larger than this is refused before it is read."""
MAX_DEPTH = 64
"""Deepest nesting of JSON arrays/objects (a valid file needs about 5)."""
MAX_REPORTED_ERRORS = 20
"""At most this many problems are listed in one error message."""

# -- CSV data ---------------------------------------------------------------------------
MAX_CSV_BYTES = 50 * 1024 * 1024
"""A CSV file (or the decompressed content of a .gz file) larger than this is refused."""
MAX_CSV_ROWS = MAX_SAMPLES
"""Data rows of a CSV file."""
MAX_CSV_COLS = 1000
"""Columns of a CSV file, target included."""
MAX_CLASSES = 100
"""Distinct labels of a classification target."""
