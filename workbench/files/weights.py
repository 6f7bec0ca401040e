"""Trained weights in a file: base64 of little-endian float32 (:func:`encode_weights`,
:func:`decode_weights`); nothing is ever pickled or evaluated."""

from __future__ import annotations

import base64
import binascii

import numpy as np
from pydantic import ValidationError

from ..spec import WeightsBlob, spec_error_from
from .errors import ExperimentFileError


def encode_weights(params: np.ndarray) -> WeightsBlob:
    """The flat parameter vector as a :class:`WeightsBlob`: base64 of its values as
    little-endian float32 (values of another float dtype are converted)."""
    arr = np.asarray(params)
    if arr.ndim != 1:
        raise ValueError(f"weights: expected a flat (1-D) parameter vector, got shape {arr.shape}")
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"weights: expected real numbers, got dtype {arr.dtype}")
    raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
    try:
        return WeightsBlob(n_params=int(arr.size), data_b64=base64.b64encode(raw).decode("ascii"))
    except ValidationError as exc:
        raise spec_error_from(exc, "weights") from None


def decode_weights(blob: WeightsBlob) -> np.ndarray:
    """The parameter vector of ``blob`` as a new float32 array.

    Raises :class:`ExperimentFileError` if the base64 is malformed or does not hold
    exactly ``4 * n_params`` bytes.
    """
    raw = weights_bytes(blob)
    return np.frombuffer(raw, dtype="<f4").astype(np.float32, copy=True)


def weights_bytes(blob: WeightsBlob, path: str = "weights") -> bytes:
    """The raw bytes of ``blob``; :class:`ExperimentFileError` (at ``path``) unless they are
    valid base64 of exactly ``4 * n_params`` bytes of ``<f4``."""
    if not isinstance(blob, WeightsBlob):
        raise ExperimentFileError([(path, f"expected a WeightsBlob, got {type(blob).__name__}")])
    if blob.dtype != "<f4":
        raise ExperimentFileError([(f"{path}.dtype", f"must be '<f4', got {blob.dtype!r}")])
    try:
        raw = binascii.a2b_base64(blob.data_b64, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ExperimentFileError([(f"{path}.data_b64", f"is not valid base64 ({exc})")]) from None
    if len(raw) != 4 * blob.n_params:
        raise ExperimentFileError(
            [(f"{path}.data_b64", f"holds {len(raw)} bytes, but n_params {blob.n_params} needs {4 * blob.n_params}")]
        )
    return raw
