"""What ``/metrics`` exposes, in Prometheus's text format, written by Prometheus's own client library.

``hoist serve`` runs several worker processes; each counts what it serves into files under
``PROMETHEUS_MULTIPROC_DIR`` (set by ``hoist serve`` before the workers start), and a scrape, whichever
worker answers it, sums them: the client library's multiprocess mode. An app built in-process (tests,
scripts) counts in memory. Values read at scrape time (uploads in progress) come from ``Probe``s the
app registers, so nothing is kept in step by hand.

Labels stay few and bounded: a request's route is the template it matched (``/api/v1/artifacts/{ref:path}``),
never its path, or the room it fell in (``/v2``) when no template matched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# How this process counts is fixed when it loads, as prometheus-client fixes it: in files when
# ``hoist serve`` set the folder before the app's modules loaded, else in memory (a later change of the
# variable, say by a test running ``serve`` in-process, must not make a scrape read other files).
_IN_FILES = bool(os.environ.get(MULTIPROCESS))
_OWN = CollectorRegistry(auto_describe=True)  # the in-process counts (no multiprocess directory)
REQUESTS = Counter(
    "hoist_http_requests", "Requests answered, by route, method and status", ["route", "method", "status"], registry=_OWN
)
LATENCY = Histogram(
    "hoist_http_request_duration_seconds",
    "Time from a request's arrival to its last byte sent, by route and method",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
    registry=_OWN,
)
RECEIVED = Counter("hoist_http_received_bytes", "Request body bytes read, by route", ["route"], registry=_OWN)
SENT = Counter("hoist_http_sent_bytes", "Response body bytes sent, by route", ["route"], registry=_OWN)
DB_CHECKED_OUT = Gauge(
    "hoist_db_connections_in_use",
    "Database connections checked out of the servers' pools now",
    registry=_OWN,
    multiprocess_mode="livesum",
)


@dataclass(frozen=True, slots=True)
class Probe:
    """A gauge read when scraped: ``read()`` is called by the scrape, never on a request's path. It
    gives one value, or (with ``label``) a value per label value."""

    name: str
    help: str
    read: Callable[[], float | Mapping[str, float]]
    label: str | None = None


class _Probes(Collector):
    def __init__(self, probes: Iterable[Probe]) -> None:
        self._probes = tuple(probes)

    def collect(self) -> Iterator[Metric]:
        for probe in self._probes:
            value = probe.read()
            if isinstance(value, Mapping):
                family = GaugeMetricFamily(probe.name, probe.help, labels=[probe.label or "kind"])
                for key, each in sorted(value.items()):
                    family.add_metric([key], each)
                yield family
            else:
                yield GaugeMetricFamily(probe.name, probe.help, value=value)


class _Own(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from _OWN.collect()


_Children = tuple[Any, Any, Any, Any]
_children: dict[tuple[str, str, str], _Children] = {}  # labelled series, looked up once each (bounded labels)


def observe(route: str, method: str, status: int, seconds: float, received: int, sent: int) -> None:
    """One answered request (a few microseconds: the series are found once, then kept)."""
    method = method if method in METHODS else "OTHER"
    key = (route, method, str(status))
    found = _children.get(key)
    if found is None:
        found = _children[key] = (
            REQUESTS.labels(*key),
            LATENCY.labels(route, method),
            RECEIVED.labels(route),
            SENT.labels(route),
        )
    count, latency, received_bytes, sent_bytes = found
    count.inc()
    latency.observe(seconds)
    if received:
        received_bytes.inc(received)
    if sent:
        sent_bytes.inc(sent)


def exposition(probes: Iterable[Probe] = ()) -> bytes:
    """Every metric, as a scrape reads it: summed over the worker processes when they count in files."""
    registry = CollectorRegistry(auto_describe=False)
    if _IN_FILES:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Own())
    registry.register(_Probes(probes))
    return generate_latest(registry)


def forget_process(pid: int) -> None:
    """A worker process that ended: its live gauges (requests in progress, connections) stop counting."""
    if _IN_FILES:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
