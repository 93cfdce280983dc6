"""The OpenAPI schema: generated without a warning, valid, complete, and saying what the API accepts.

Whether the served API keeps to it is checked by fuzzing it: tests/integration/test_api_fuzz.py.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from jobs.dead_letter_apis import ERROR_TYPE_MAX_LENGTH
from jobs.models import DeadLetter
from similarity.services import TUNABLE_OPTIONS
from wallets.addresses import ADDRESS_FORMAT

pytestmark = pytest.mark.django_db

SPEC_OPERATIONS = {
    ("post", "/jobs/similarity/analyze"),
    ("post", "/jobs/wallets/sync"),
    ("post", "/jobs/analysis/pnl"),
    ("post", "/jobs/analysis/behavior"),
    ("post", "/jobs/bulk-analysis"),
    ("post", "/jobs/token-holders/analyze"),
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


def _schema() -> dict:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_says_what_an_address_and_a_wallet_list_are() -> None:
    components = _schema()["components"]["schemas"]
    address = components["WalletJobInput"]["properties"]["wallet"]
    assert address["format"] == ADDRESS_FORMAT
    assert (address["minLength"], address["maxLength"]) == (32, 44)
    wallets = components["SimilaritySubmitInput"]["properties"]["wallets"]
    assert wallets["items"]["format"] == ADDRESS_FORMAT
    assert (wallets["minItems"], wallets["maxItems"]) == (2, settings.MAX_WALLETS_PER_JOB)
    assert components["BulkAnalysisInput"]["properties"]["wallets"]["minItems"] == 1
    assert components["BulkAnalysisInput"]["anyOf"], "similarity in a bulk job needs two wallets"


def test_request_bodies_are_closed_and_flags_are_booleans() -> None:
    components = _schema()["components"]["schemas"]
    for name in ("WalletJobInput", "SimilaritySubmitInput", "BulkAnalysisInput", "SimilaritySyncInput"):
        assert components[name]["additionalProperties"] is False, name
    assert components["WalletJobInput"]["properties"]["force"]["type"] == "boolean"
    options = components["SimilaritySubmitInput"]["properties"]["options"]
    assert options["additionalProperties"] is False
    assert set(options["properties"]) == set(TUNABLE_OPTIONS)


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch", "trace", "query"])
def test_metrics_answers_only_reads(method: str) -> None:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user(username="scraper", is_staff=True))
    response = client.generic(method.upper(), "/metrics")
    assert response.status_code == 405, response.content
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert client.head("/metrics").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [("queue=", "queue"), ("queue=nowhere", "queue"), ("error_type=", "error_type"), ("limit=", "limit")],
)
def test_dead_letter_filters_refuse_empty_values(query: str, field: str) -> None:
    staff = get_user_model().objects.create_user(username="staff", is_staff=True)
    client = APIClient()
    client.force_authenticate(staff)
    response = client.get(f"/jobs/failed/recent?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert client.get("/jobs/failed/recent?error_type=%0D").status_code == 200


def test_the_error_type_filter_bound_is_the_column() -> None:
    assert DeadLetter._meta.get_field("error_type").max_length == ERROR_TYPE_MAX_LENGTH
