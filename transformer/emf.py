"""CloudWatch Embedded Metric Format documents, built from a template made once per set of metric names.

A document has the shape Powertools' `Metrics.flush_metrics` prints (one dimension set; each value a one-element
list of floats), so CloudWatch extracts the same metrics; filling a template costs one string format per batch
instead of Powertools' per-metric validation and a `json.dumps` of the whole document (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence

Metric = tuple[str, str, float]
"""(name, unit, value); units as CloudWatch names them: "Count", "Milliseconds"."""

_Key = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


def _dimensions(dimensions: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The dimensions CloudWatch gets: as Powertools' `add_dimension`, one with a blank name or value is left out."""
    return tuple((name, value) for name, value in dimensions.items() if name.strip() and value.strip())


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":")).replace("%", "%%")  # a %-format template's fixed text


class EmfWriter:
    """Prints EMF documents to standard output, where Lambda sends them to CloudWatch Logs."""

    def __init__(self, namespace: str, dimensions: Mapping[str, str]) -> None:
        self._namespace = namespace
        self._dimensions = _dimensions(dimensions)
        self._templates: dict[_Key, str] = {}
        self.last: Sequence[Metric] = ()
        """The metrics of the last document emitted (for tests and the benchmark)."""

    def _template(self, key: _Key) -> str:
        """`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[...]},"service":"...","Name":[%r],...}`."""
        units, dimensions = key
        metadata = {
            "Namespace": self._namespace,
            "Dimensions": [[name for name, _ in dimensions]],
            "Metrics": [{"Name": name, "Unit": unit} for name, unit in units],
        }
        parts = ['{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[' + _json(metadata) + "]}"]
        parts += [f"{_json(name)}:{_json(value)}" for name, value in dimensions]
        parts += [f"{_json(name)}:[%r]" for name, _ in units]
        return ",".join(parts) + "}"

    def document(
        self, metrics: Sequence[Metric], *, dimensions: Mapping[str, str] | None = None, timestamp_ms: int | None = None
    ) -> str:
        """The EMF document of `metrics`, dimensioned by the writer's dimensions, or `dimensions` when given."""
        key = (tuple((name, unit) for name, unit, _ in metrics), self._dimensions)
        if dimensions is not None:
            key = (key[0], _dimensions(dimensions))
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._template(key)
        stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        return template % (stamp, *[float(value) for _, _, value in metrics])

    def emit(self, metrics: Sequence[Metric], *, dimensions: Mapping[str, str] | None = None) -> None:
        if metrics:
            self.last = metrics
            sys.stdout.write(self.document(metrics, dimensions=dimensions) + "\n")

    def last_values(self) -> dict[str, float]:
        """The last document's metrics by name."""
        return {name: value for name, _, value in self.last}
