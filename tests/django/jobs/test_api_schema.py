"""The OpenAPI schema: generated without a warning, valid, and complete for SPEC §7."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SPEC_OPERATIONS = {
    ("post", "/jobs/similarity/analyze"),
    ("post", "/jobs/wallets/sync"),
    ("post", "/jobs/analysis/pnl"),
    ("post", "/jobs/analysis/behavior"),
    ("post", "/jobs/bulk-analysis"),
    ("get", "/jobs"),
    ("get", "/jobs/{job_id}"),
    ("delete", "/jobs/{job_id}"),
    ("get", "/jobs/{job_id}/status"),
    ("get", "/jobs/{job_id}/progress"),
    ("get", "/jobs/{job_id}/result"),
    ("post", "/jobs/{job_id}/cancel"),
    ("get", "/jobs/queue/{queue}/stats"),
    ("get", "/jobs/queue/{queue}/jobs"),
    ("get", "/jobs/queues"),
    ("get", "/jobs/failed/stats"),
    ("get", "/jobs/failed/recent"),
    ("post", "/jobs/failed/{dead_letter_id}/retry"),
    ("get", "/health/queues"),
    ("get", "/metrics"),
    ("post", "/analyses/similarity"),
}


def test_schema_validates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=StringIO())
    schema = yaml.safe_load(target.read_text())
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert operations >= SPEC_OPERATIONS, SPEC_OPERATIONS - operations


def test_schema_documents_errors_and_throttling() -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    submit = schema["paths"]["/jobs/bulk-analysis"]["post"]["responses"]
    assert {"200", "202", "400", "401", "415", "429"} <= set(submit)
    assert "Retry-After" in submit["429"]["headers"]
    assert {"401", "403"} <= set(schema["paths"]["/jobs/failed/recent"]["get"]["responses"])
    for path in ("/health/queues", "/jobs/queues", "/metrics"):
        assert {"401", "403"} <= set(schema["paths"][path]["get"]["responses"])
    assert schema["components"]["securitySchemes"]["monitoringToken"]["scheme"] == "bearer"


def test_docs_page_renders() -> None:
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200 and b"swagger" in response.content.lower()
