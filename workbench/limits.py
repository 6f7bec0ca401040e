"""Every bound on what a file, a data set or a setting may ask of this program, in one place.

A bound is checked *before* the memory or time it protects is spent (a file's size
before it is read, a document's element count before the schema library sees it, a
run's memory before its arrays are allocated).  README.md's "Experiment files" section
lists these numbers; change them here and there together.

The bounds agree with each other: the engine never produces a history, a marker list
or a weight vector that the schema refuses, and every file this program writes (for
runs whose weights fit :data:`MAX_SAVED_PARAMETERS`) is smaller than
:data:`MAX_FILE_BYTES` and passes the document bounds (``MAX_JSON_*``), so whatever is
saved can be opened again.  ``tests/spec/test_bounds.py`` checks the arithmetic.

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
"""Epochs of one run; a follow-up phase (retrain/continue) runs at most as many again."""
MAX_SAMPLES = 200_000
"""Samples of a generated data set, and data rows of a CSV file."""
MAX_BATCH = 100_000
"""Mini-batch size."""
MAX_SEED = 2**32 - 1
"""Largest seed."""
MAX_TEXT = 10_000
"""Characters of an experiment's description."""
MAX_PARAMETERS = 50_000_000
"""Parameters of the largest network trained here (float32: 200 MB per copy)."""

# -- one run's results (per run: a later file format may hold several runs) -------------
MAX_HISTORY = MAX_EPOCHS
"""Entries of one history column: the training phase and the follow-up each run at most MAX_EPOCHS epochs, kept as two histories."""
MAX_HISTORY_COLUMNS = 11
"""Columns of one history (spec.HISTORY_COLUMNS: epoch, 3 losses, lr, 6 metrics)."""
MAX_MARKERS = 10_000
"""Markers of one run (the recorder thins a longer list to this many)."""
MAX_MARKER_TEXT = 500
"""Characters of one marker's text."""
MAX_SAVED_PARAMETERS = 10_000_000
"""Most weights a file stores (40 MB as float32); larger networks are saved without weights."""
MAX_WEIGHTS_B64 = 4 * -(-4 * MAX_PARAMETERS // 3)
"""Base64 characters of the largest weight vector held in memory: 4*ceil(4*50e6/3) = 266,666,668."""
MAX_SAVED_WEIGHTS_B64 = 4 * -(-4 * MAX_SAVED_PARAMETERS // 3)
"""Base64 characters of the largest weight vector in a file: 4*ceil(4*10e6/3) = 53,333,336."""

# -- a session's runs in one file (format version 2) ------------------------------------
MAX_RUNS = 64
"""Runs one file (and one session) keeps; the histories, markers and weights of all of them share the file's budget below (MAX_FILE_HISTORY, MAX_FILE_MARKERS; weights that do not fit beside them are left out when asked)."""
MAX_FILE_HISTORY = 2 * MAX_HISTORY_COLUMNS * MAX_HISTORY
"""History numbers of all runs of one file (and one session) together: one maximal run's, 2*11*100,000 = 2,200,000; before a run starts the session makes room for what it may hold (the oldest finished unpinned runs go, else it is refused), because opening costs about 280 MiB and 6 s per 2,200,000 numbers (measured: the largest file admitted, 142 MB, peaks at 806 MiB RSS; 4 maximal runs would take 1.3 GiB and 25 s)."""
MAX_FILE_MARKERS = MAX_MARKERS
"""Markers of all runs of one file together: 10,000 (saving thins each run's automatic markers to its share, workbench.markers.fit_runs, and counts the rest in its markers_left_out)."""
RUN_CONTAINERS = 100
"""Arrays and objects of one run besides its markers: its spec (sections, up to 32 layers) and result (histories, summary, weights)."""
RUN_STRINGS = 600
"""Strings (keys included) of one run besides its markers: about 250 for its spec, 150 for its result, and its name and group."""
RUN_KEYS = 500
"""Object keys of one run besides its markers: about 210 for its spec (a 32-layer network), 120 for its result (64 final metrics)."""

# -- experiment files: what the largest valid file takes ---------------------------------
HISTORY_NUMBER_BYTES = 28
"""File bytes per history number at most: the longest float repr (24, '-2.2250738585072014e-308') + ', ' + a line's 10-space indent (a run's result, in the runs array) and ',\\n' shared by 8 numbers (28/8 = 3.5)."""
MARKER_BYTES = 120 + 6 * MAX_MARKER_TEXT
"""File bytes per marker at most: 120 for kind, epoch, keys and indentation (in a run, in the runs array) + 6 per text character (a control character is written as \\u0001) = 3,120."""
MAX_OTHER_BYTES = 1 << 20
"""File bytes of everything but histories, markers and weights (spec with a 10,000-character description written 6 bytes a character, metrics, summary): at most 1 MiB."""
RUN_OTHER_BYTES = 128 << 10
"""File bytes of one run besides its histories, markers and weights (its spec with a 10,000-character description written 6 bytes a character: about 94 kB; name, group, metrics, summary, message): at most 128 KiB."""
MAX_FILE_BYTES_WITHOUT_WEIGHTS = (
    MAX_FILE_HISTORY * HISTORY_NUMBER_BYTES + MAX_FILE_MARKERS * MARKER_BYTES + (MAX_RUNS + 1) * RUN_OTHER_BYTES
)
"""File bytes of the largest session saved without weights: 2,200,000*28 (histories) + 10,000*3,120 (markers) + 65*128 KiB (the runs and the spec) = 101,319,680, under MAX_FILE_BYTES: so leaving the weights out always makes a session fit."""
MAX_RUN_BYTES = (
    2 * MAX_HISTORY_COLUMNS * MAX_HISTORY * HISTORY_NUMBER_BYTES + MAX_MARKERS * MARKER_BYTES + MAX_SAVED_WEIGHTS_B64
)
"""File bytes of one run's results at most: 2*11*100,000*28 (histories) + 10,000*3,120 (markers) + 53,333,336 (weights) = 146,133,336."""

# -- experiment files -------------------------------------------------------------------
MAX_FILE_BYTES = -(-(MAX_RUN_BYTES + MAX_OTHER_BYTES) // (1 << 20)) * (1 << 20)
"""An experiment file larger than this is refused before it is read: one maximal run with its weights and the spec, rounded up to whole MiB = 141 MiB (147,849,216 bytes); several runs share it (MAX_FILE_BYTES_WITHOUT_WEIGHTS)."""
MAX_DEPTH = 64
"""Deepest nesting of JSON arrays/objects (a valid file needs about 5)."""
MAX_REPORTED_ERRORS = 20
"""At most this many problems are listed in one error message."""

# -- experiment files: the raw JSON document, bounded before it is parsed ---------------
MAX_JSON_ARRAY = 64
"""Items of one JSON array other than a history column (MAX_HISTORY) and the markers (MAX_MARKERS): the longest, schedule milestones, has 64."""
MAX_JSON_KEYS = 64
"""Keys of one JSON object: the largest, final_metrics, may have 64 (a spec section has about 20)."""
MAX_JSON_STRING = 12 * MAX_TEXT
"""Characters of one JSON string other than the weights (MAX_SAVED_WEIGHTS_B64): the description, each character at most 12 when escaped as a surrogate pair \\ud83d\\ude00."""
MAX_JSON_CONTAINERS = MAX_FILE_MARKERS + (MAX_RUNS + 1) * RUN_CONTAINERS
"""Arrays and objects in one document: one per marker of the file (MAX_FILE_MARKERS), and RUN_CONTAINERS for each run and the experiment's own spec = 16,500."""
MAX_JSON_STRINGS = 5 * MAX_FILE_MARKERS + (MAX_RUNS + 1) * RUN_STRINGS
"""Strings (keys included) in one document: 5 per marker (3 keys, kind, text), RUN_STRINGS per run and the spec = 89,000."""
MAX_JSON_KEYS_TOTAL = 3 * MAX_FILE_MARKERS + (MAX_RUNS + 1) * RUN_KEYS
"""Object keys in one document: 3 per marker, RUN_KEYS per run and the spec = 62,500."""
MAX_JSON_ELEMENTS = MAX_FILE_HISTORY + 4 * MAX_FILE_MARKERS + (MAX_RUNS + 1) * 1_000
"""Values in one document (counted as 1 + commas + containers): the histories' MAX_FILE_HISTORY = 2,200,000 numbers (all runs together), 4 per marker, 1,000 per run and the spec = 2,305,000."""

# -- training ---------------------------------------------------------------------------
MAX_RUN_MEMORY = 4 << 30
"""Bytes one run's arrays may need (workbench.build.estimate_memory): 4 GiB, a quarter of a 16 GiB machine, leaving the window, the OS and other programs room; the largest network (50 M parameters, Adam, early stopping: about 2 GB with its temporaries) still fits with a moderate batch."""

# -- CSV data ---------------------------------------------------------------------------
MAX_CSV_BYTES = 50 * 1024 * 1024
"""A CSV file (or the decompressed content of a .gz file) larger than this is refused."""
MAX_CSV_ROWS = MAX_SAMPLES
"""Data rows of a CSV file."""
MAX_CSV_COLS = 1000
"""Columns of a CSV file, target included."""
MAX_CLASSES = 100
"""Distinct labels of a classification target."""
MAX_CSV_CELL_CHARS = 256
"""Characters budgeted per CSV cell (a number as written needs at most about 25)."""
MAX_CSV_LINE_CHARS = MAX_CSV_COLS * (MAX_CSV_CELL_CHARS + 1)
"""Characters of one CSV record (its cells and delimiters), checked while the record is read."""
CSV_CACHE_BYTES = 256 * 1024 * 1024
"""Memory kept for parsed CSV tables, reused while only the split, scaling or missing-value choice changes."""

# -- files: what the parser and the writer follow -----------------------------------------
MAX_INT_DIGITS = 40
"""Digits of an integer in an experiment file (files/strict_json): the largest a valid file holds is a seed, 2**32 - 1 (10 digits); a longer one is named out of range before int() converts it (quadratic in the digits)."""
MAX_FINAL_METRICS = 64
"""Entries of a run's final_metrics (the engine reports at most 9: loss and accuracy, or loss, rmse and r2, on train, val and test); checked before the schema builds them (files/schema_check, spec.RunResult)."""
MAX_SYMLINKS = 40
"""Symbolic links followed while resolving the path a save writes to (files/safe_write), the kernel's own limit (ELOOP): a loop of links is refused, not followed forever."""

# -- the window and the helpers: what a long session keeps ---------------------------------
MAX_UNDO_STEPS = 500
"""Undo steps the window keeps (QUndoStack.setUndoLimit; consecutive edits of one field merge into one): each holds two specs of a few kB, and 4,000 unbounded live edits grew the process by 86 MB."""
MAX_CACHED_DATASETS = 6
"""Loaded data sets the session keeps, by recipe (undoing a data edit or switching between a few recipes does not load again); each is bounded by MAX_SAMPLES rows and MAX_CSV_BYTES of CSV, the parsed tables by CSV_CACHE_BYTES."""
SNAPSHOT_BUDGET = 64 << 20
"""Bytes of weight snapshots (the timeline) a session keeps, all runs together: 64 MiB, every epoch of 1,000 epochs of a 16,000-parameter network as float32; more are thinned evenly (workbench/snapshots)."""
MAX_LABELLED_MARKERS = 20
"""Markers a plot draws as labelled lines (the user's own first); the others are ticks drawn by one item per plot, so drawing stays bounded whatever a file holds (10,000 labelled markers took 17 s to paint)."""
MAX_STACK_POINTS = 4096
"""Epochs of one run a group's band keeps (ui/plots/stack_series MAX_POINTS; longer histories keep every k-th epoch): 64 seeds of 100,000 epochs hold 64*4,096 float64 = 2 MiB per column, and 4,096 is wider than a plot in pixels."""
MAX_LR_FIND_SEEDS = 20
"""Seeds of one learning-rate range test (lr_find MAX_SEEDS): each trains its own network from its own initial weights; 20 curves give a band as tight as the suggestions need."""
MAX_LR_FIND_STEPS = 10_000
"""Steps per seed of a range test (lr_find MAX_STEPS): a sweep over 8 decades needs a few hundred; 10,000 bounds its time and its curve's memory."""
