"""deploy/grafana-dashboard.json queries only metrics the app exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.settings import Settings
from tests.conftest import make_settings
from tests.factories import bearer
from tests.observability.test_metrics import METRICS_TOKEN


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, HAOBAN_METRICS_TOKEN=METRICS_TOKEN)


DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana-dashboard.json"
_NAME = re.compile(r"\b((?:haoban|process)_[a-z_]+)\b")
_TYPE = re.compile(r"^# TYPE (\S+) (\w+)$", re.MULTILINE)
_HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


def queried() -> set[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return {name for panel in panels for target in panel["targets"] for name in _NAME.findall(target["expr"])}


async def test_every_metric_the_dashboard_queries_is_exported(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200
    types = dict(_TYPE.findall(response.text))
    names = queried()
    assert len(names) >= 10
    missing = []
    for name in sorted(names):
        base = next((name.removesuffix(p) for p in _HISTOGRAM_PARTS if name.endswith(p)), name)
        if name not in types and types.get(base) != "histogram":
            missing.append(name)
    assert missing == []


def test_the_dashboard_is_grafana_json_with_unique_panel_ids() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel["targets"] for panel in dashboard["panels"])
