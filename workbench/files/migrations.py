"""Versions of the file format: a file records the :data:`CURRENT_VERSION` it was written
with; an older one is upgraded on load by :data:`MIGRATIONS`, which maps a version ``v``
to a function turning a version-``v`` document (a dict) into a version ``v + 1`` one
(:func:`upgrade` applies them in order and sets ``"version"`` itself); a newer one is
refused.

Version 1 held one run's ``"results"`` beside the spec (:func:`_v1_to_v2`: its results
become run 1, and since they were trained before regression targets were standardised,
its specs keep ``standardize_targets: false`` so a re-run reproduces them)."""

from __future__ import annotations

from typing import Callable

from ..spec import SpecError
from .errors import ExperimentFileError

CURRENT_VERSION = 2

#: ``MIGRATIONS[v]`` turns a version-``v`` document into a version-``v + 1`` one.
#: ``upgrade`` applies them in order and then sets ``"version"`` itself.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def _v1_to_v2(doc: dict) -> dict:
    """Version 1 -> 2: ``results`` become the one run.  Results of version 1 were trained
    on raw regression targets: specs that had results keep ``standardize_targets: false``."""
    out = {k: v for k, v in doc.items() if k != "results"}
    results = doc.get("results")
    if results is not None:
        spec = doc.get("spec")
        if isinstance(spec, dict):
            data = spec.get("data")
            data = dict(data) if isinstance(data, dict) else ({} if data is None else data)
            if isinstance(data, dict):
                data.setdefault("standardize_targets", False)
            spec = {**spec, "data": data}
            out["spec"] = spec
        out["runs"] = [{"name": "run 1", "spec": spec, "result": results}]
        out["current"] = 0
    return out


MIGRATIONS[1] = _v1_to_v2


def upgrade(doc: dict, version: int, source: str) -> dict:
    """The version-:data:`CURRENT_VERSION` document of the version-``version`` document
    ``doc``; :class:`ExperimentFileError` for a newer version, one without an upgrade
    path or an upgrade that fails."""

    def fail(path: str, message: str) -> ExperimentFileError:
        return ExperimentFileError([(path, message)], source)

    if version > CURRENT_VERSION:
        raise fail("version", f"version {version} is newer than this program supports ({CURRENT_VERSION})")
    for v in range(version, CURRENT_VERSION):
        step = MIGRATIONS.get(v)
        if step is None:
            raise fail("version", f"version {version} files cannot be read (no upgrade from version {v})")
        try:
            doc = step(doc)
        except SpecError:
            raise
        except Exception as exc:  # a migration met a document it did not expect
            raise fail("version", f"upgrading from version {v} failed: {type(exc).__name__}: {exc}") from None
        if not isinstance(doc, dict):
            raise fail("version", f"upgrading from version {v} did not give a JSON object")
        doc["version"] = v + 1
    return doc
