"""JSON of the envelopes between gateways and workers: orjson, falling back to the standard
library where orjson refuses (NaN and Infinity, lone surrogates, integers beyond 64 bits when
writing, nesting beyond 1,024 levels).

Not for a charger's frames (`frames.parse` reads those with `json`): orjson reads an integer
beyond 64 bits as a float, which would change the 1.6 error a payload gets, and guarding against
that costs as much as `json.loads` of a whole frame."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(text: str | bytes) -> Any:
    """`json.loads`, faster; raises ValueError (or RecursionError) where `json.loads` does."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of a plain JSON value (`json.dumps` with `separators=(",", ":")` where
    orjson refuses it)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: a big integer or a lone surrogate
        return json.dumps(value, separators=(",", ":")).encode()
