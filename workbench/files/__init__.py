"""The steps of reading and writing experiment files, one module each; the whole files are
:mod:`workbench.experiment_file`'s (``load``, ``loads``, ``dumps``, ``save``), and every
public name here imports from there too.

Reading:  :mod:`.json_bounds` (bound the raw text) -> :mod:`.strict_json` (parse it, refusing
          NaN, duplicate keys, ...) -> :mod:`.migrations` (upgrade an older version) ->
          :mod:`.schema_check` (check it against the spec's schema);
writing:  :mod:`.json_layout` (the diff-friendly text) -> :mod:`.safe_write` (replace the
          file atomically, refusing what must not be overwritten);
both:     :mod:`.weights` (trained weights as base64 float32), :mod:`.errors`.
"""
