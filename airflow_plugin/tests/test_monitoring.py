"""What monitoring tasks read and build: the bridge's Prometheus scrape, latency percentiles, a Grafana dashboard."""

from __future__ import annotations

from airgate import bridge_metrics, grafana_dashboard, latency_summary, parse_metrics

from conftest import FakeBridge

# What prom-client answers on the bridge's /metrics (its own metrics beside one of its Node.js process metrics).
SCRAPE = """# HELP airgate_votes_total Votes recorded, by channel and whether they were refused
# TYPE airgate_votes_total counter
airgate_votes_total{channel="ui",result="recorded"} 2
airgate_votes_total{channel="slack",result="refused"} 1

# HELP airgate_decisions_total Approvals that reached a final state
# TYPE airgate_decisions_total counter

# HELP airgate_approvals_pending Approvals waiting for a decision
# TYPE airgate_approvals_pending gauge
airgate_approvals_pending 3

# HELP airgate_effects Effects on Airflow not yet applied (pending) or given up on (failed)
# TYPE airgate_effects gauge
airgate_effects{state="pending"} 0
airgate_effects{state="failed"} 1

# HELP airgate_bridge_nodejs_gc_duration_seconds Garbage collection duration by kind
# TYPE airgate_bridge_nodejs_gc_duration_seconds histogram
airgate_bridge_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 4
airgate_bridge_nodejs_gc_duration_seconds_sum{kind="minor"} 0.0021
airgate_bridge_nodejs_gc_duration_seconds_count{kind="minor"} 4
"""


def test_a_scrape_is_read_into_families_with_their_samples():
    families = parse_metrics(SCRAPE)
    assert families["airgate_votes_total"] == {
        "type": "counter",
        "help": "Votes recorded, by channel and whether they were refused",
        "samples": [
            {"labels": {"channel": "ui", "result": "recorded"}, "value": 2.0},
            {"labels": {"channel": "slack", "result": "refused"}, "value": 1.0},
        ],
    }
    # A counter nothing counted yet is still exported, without samples.
    assert families["airgate_decisions_total"]["samples"] == []
    assert families["airgate_approvals_pending"]["samples"] == [{"labels": {}, "value": 3.0}]
    gc = families["airgate_bridge_nodejs_gc_duration_seconds"]
    assert (gc["type"], len(gc["samples"])) == ("histogram", 3)
    assert gc["samples"][1]["labels"] == {
        "kind": "minor",
        "__name__": "airgate_bridge_nodejs_gc_duration_seconds_sum",
    }


def test_escaped_label_values_and_help_texts_are_read_back():
    families = parse_metrics('# HELP m a \\\\ b\\nc\n# TYPE m gauge\nm{path="/a \\"b\\""} 1\n')
    assert families["m"]["help"] == "a \\ b\nc"
    assert families["m"]["samples"] == [{"labels": {"path": '/a "b"'}, "value": 1.0}]


def test_the_scrape_is_the_bridges_metrics_endpoint(bridge: FakeBridge):
    bridge.answer(200, SCRAPE.encode(), content_type="text/plain; version=0.0.4")
    assert bridge_metrics()["airgate_approvals_pending"]["samples"][0]["value"] == 3.0
    assert (bridge.calls[0].method, bridge.calls[0].path) == ("GET", "/metrics")


def test_latency_percentiles_take_the_nearest_rank_as_the_bridges_stats_do():
    assert latency_summary([]) == {"count": 0, "p50_s": None, "p90_s": None, "p99_s": None, "max_s": None}
    assert latency_summary([5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]) == {
        "count": 10,
        "p50_s": 5.0,
        "p90_s": 9.0,
        "p99_s": 10.0,
        "max_s": 10.0,
    }


def test_the_dashboard_charts_every_airgate_counter_and_gauge_the_scrape_holds():
    dashboard = grafana_dashboard(parse_metrics(SCRAPE), title="airgate approvals", uid="airgate-approvals")
    assert (dashboard["uid"], dashboard["title"]) == ("airgate-approvals", "airgate approvals")
    panels = {p["title"]: p for p in dashboard["panels"]}
    # The Node.js process metrics stay out.
    assert list(panels) == [
        "airgate_approvals_pending",
        "airgate_decisions_total",
        "airgate_effects",
        "airgate_votes_total",
    ]
    assert panels["airgate_approvals_pending"]["type"] == "stat"
    assert panels["airgate_effects"]["targets"][0]["expr"] == "max by (state) (airgate_effects)"
    votes = panels["airgate_votes_total"]["targets"][0]
    assert votes == {
        "refId": "A",
        "expr": "sum by (channel, result) (rate(airgate_votes_total[$__rate_interval]))",
        "legendFormat": "{{channel}} {{result}}",
    }
    assert (
        panels["airgate_decisions_total"]["targets"][0]["expr"]
        == "sum (rate(airgate_decisions_total[$__rate_interval]))"
    )
    assert [p["gridPos"] for p in dashboard["panels"][:3]] == [
        {"h": 8, "w": 12, "x": 0, "y": 0},
        {"h": 8, "w": 12, "x": 12, "y": 0},
        {"h": 8, "w": 12, "x": 0, "y": 8},
    ]
    assert all(p["datasource"] == {"type": "prometheus", "uid": "${datasource}"} for p in dashboard["panels"])
