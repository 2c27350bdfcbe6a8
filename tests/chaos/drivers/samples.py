"""One fault spec per Chaos Mesh kind and action the driver supports, as experiments write them."""

from __future__ import annotations

from typing import Any

SHOP = {"namespaces": ["shop"], "labelSelectors": {"app": "shop"}}

FAULTS: dict[str, dict[str, Any]] = {
    "network-delay": {
        "target": "shop/shop",
        "kind": "NetworkChaos",
        "action": "delay",
        "selector": SHOP,
        "mode": "all",
        "duration": "30s",
        "delay": {"latency": "100ms", "jitter": "10ms", "correlation": "25"},
    },
    "network-loss": {
        "target": "shop/shop",
        "kind": "NetworkChaos",
        "action": "loss",
        "selector": SHOP,
        "mode": "fixed-percent",
        "value": "50",
        "loss": {"loss": "25"},
    },
    "network-partition": {
        "target": "shop/shop",
        "kind": "NetworkChaos",
        "action": "partition",
        "selector": SHOP,
        "direction": "both",
        "peer": {"mode": "all", "selector": {"namespaces": ["db"]}},
    },
    "network-bandwidth": {
        "target": "shop/shop",
        "kind": "NetworkChaos",
        "action": "bandwidth",
        "selector": SHOP,
        "bandwidth": {"rate": "1mbps", "limit": 20971520, "buffer": 10000},
    },
    "http-abort": {
        "target": "shop/shop",
        "kind": "HTTPChaos",
        "action": "abort",
        "selector": SHOP,
        "port": 8080,
        "path": "/api/*",
        "duration": "1m",
    },
    "http-delay": {
        "target": "shop/shop",
        "kind": "HTTPChaos",
        "action": "delay",
        "selector": SHOP,
        "port": 8080,
        "method": "GET",
        "delay": "2s",
    },
    "http-replace": {
        "target": "shop/shop",
        "kind": "HTTPChaos",
        "action": "replace",
        "phase": "Response",
        "selector": SHOP,
        "port": 8080,
        "replace": {"code": 503, "body": '{"error": "chaos"}'},
    },
    "pod-kill": {
        "target": "shop/shop",
        "kind": "PodChaos",
        "action": "pod-kill",
        "selector": SHOP,
        "mode": "fixed",
        "value": "1",
        "gracePeriod": 0,
    },
    "pod-failure": {
        "target": "shop/shop",
        "kind": "PodChaos",
        "action": "pod-failure",
        "selector": SHOP,
        "duration": "30s",
    },
    "container-kill": {
        "target": "shop/shop",
        "kind": "PodChaos",
        "action": "container-kill",
        "selector": SHOP,
        "containerNames": ["shop"],
    },
    "stress-cpu": {
        "target": "shop/shop",
        "kind": "StressChaos",
        "selector": SHOP,
        "duration": "1m",
        "stressors": {"cpu": {"workers": 2, "load": 80}},
    },
    "stress-memory": {
        "target": "shop/shop",
        "kind": "StressChaos",
        "selector": SHOP,
        "stressors": {"memory": {"workers": 1, "size": "256MB"}},
        "containerNames": ["shop"],
    },
}
