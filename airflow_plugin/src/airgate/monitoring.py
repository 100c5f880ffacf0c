"""What a monitoring task reads and builds: the bridge's Prometheus metrics, latency percentiles, a Grafana dashboard."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from airgate.hooks.bridge import BRIDGE_CONN_ID, BridgeHook


class Sample(TypedDict):
    labels: dict[str, str]
    value: float


class MetricFamily(TypedDict):
    """One metric as the bridge's ``GET /metrics`` exposes it: its type, its help text and its samples."""

    #: ``counter``, ``gauge``, ``histogram``, ``summary`` or ``untyped``.
    type: str
    help: str
    samples: list[Sample]


class LatencySummary(TypedDict):
    """Percentiles of waits in seconds, nearest rank (as the bridge's ``GET /api/v1/stats`` takes them)."""

    count: int
    p50_s: float | None
    p90_s: float | None
    p99_s: float | None
    max_s: float | None


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
#: The samples of a histogram or summary carry its name with one of these endings.
_PARTS = ("_bucket", "_sum", "_count")
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _unescape(text: str) -> str:
    return re.sub(r'\\[\\"n]', lambda m: _ESCAPES[m.group()], text)


def parse_metrics(text: str) -> dict[str, MetricFamily]:
    """
    The metric families of a Prometheus text exposition (what prom-client answers on ``/metrics``), by name; a
    histogram's ``_bucket``/``_sum``/``_count`` samples belong to their family.

    :param text: The exposition.
    """
    families: dict[str, MetricFamily] = {}
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            _, kind, name, *rest = line.split(" ", 3)
            family = families.setdefault(name, MetricFamily(type="untyped", help="", samples=[]))
            if kind == "HELP":
                family["help"] = _unescape(rest[0]) if rest else ""
            else:
                family["type"] = rest[0].strip() if rest else "untyped"
        elif not line.startswith("#") and (found := _SAMPLE.match(line)):
            name = found["name"]
            owner = next(
                (name[: -len(p)] for p in _PARTS if name.endswith(p) and name[: -len(p)] in families), name
            )
            labels = {key: _unescape(value) for key, value in _LABEL.findall(found["labels"] or "")}
            if owner != name:
                labels["__name__"] = name
            families.setdefault(owner, MetricFamily(type="untyped", help="", samples=[]))["samples"].append(
                Sample(labels=labels, value=float(found["value"]))
            )
    return families


def bridge_metrics(conn_id: str = BRIDGE_CONN_ID) -> dict[str, MetricFamily]:
    """
    What the bridge exports to Prometheus right now (``GET /metrics``, read through the connection ``conn_id``).

    :param conn_id: The connection that points at the bridge.
    """
    response = BridgeHook(conn_id).call("GET", "/metrics")
    response.raise_for_status()
    return parse_metrics(response.text)


def quantile(ordered: list[float], q: float) -> float | None:
    """The value below which a share ``q`` of the sorted values fall (nearest rank); None without values."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency_summary(seconds: Iterable[float]) -> LatencySummary:
    """
    Percentiles of waits, for a latency panel or an SLO check.

    :param seconds: The waits, in any order.
    """
    ordered = sorted(seconds)
    return LatencySummary(
        count=len(ordered),
        p50_s=quantile(ordered, 0.5),
        p90_s=quantile(ordered, 0.9),
        p99_s=quantile(ordered, 0.99),
        max_s=ordered[-1] if ordered else None,
    )


def _panel(number: int, name: str, family: MetricFamily) -> dict[str, Any]:
    labels = sorted({key for s in family["samples"] for key in s["labels"]})
    by = f" by ({', '.join(labels)}) " if labels else " "
    counter = family["type"] == "counter"
    # Each replica counts what it did, so counters add up; the gauges read the shared store, so every replica
    # reports the same figure: the largest is it.
    expr = f"sum{by}(rate({name}[$__rate_interval]))" if counter else f"max{by}({name})"
    return {
        "id": number,
        "type": "stat" if not counter and not labels else "timeseries",
        "title": name,
        "description": family["help"],
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((number - 1) % 2), "y": 8 * ((number - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": "ops" if counter else "short"}, "overrides": []},
        "targets": [
            {"refId": "A", "expr": expr, "legendFormat": " ".join(f"{{{{{key}}}}}" for key in labels) or name}
        ],
    }


def grafana_dashboard(
    families: Mapping[str, MetricFamily], *, title: str, uid: str, prefix: str = "airgate_"
) -> dict[str, Any]:
    """
    A Grafana dashboard (JSON model) with one panel per counter and gauge the bridge exports under ``prefix``:
    counters as rates summed over replicas, gauges as they stand, split by every label their samples carry. Built from a scrape,
    so each panel queries a metric the bridge really exports; its Node.js process metrics are left out.

    :param families: The scrape (:func:`bridge_metrics`).
    :param title: The dashboard's title.
    :param uid: Its stable id, so importing it again replaces it.
    :param prefix: Which metrics to chart.
    """
    names = sorted(
        name
        for name, family in families.items()
        if name.startswith(prefix)
        and not name.startswith(f"{prefix}bridge_")
        and family["type"] in ("counter", "gauge")
    )
    return {
        "uid": uid,
        "title": title,
        "tags": ["airgate"],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus"}
            ]
        },
        "panels": [_panel(number, name, families[name]) for number, name in enumerate(names, start=1)],
    }
