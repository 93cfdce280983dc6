"""The Lab page in-process: behind login, and carrying what its script needs (no browser, no stack)."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from lab.views import lab_websocket_url

pytestmark = pytest.mark.django_db


def _config(client: Client) -> dict[str, object]:
    response = client.get("/")
    assert response.status_code == 200
    match = re.search(rb'<script id="lab-config" type="application/json">(.*?)</script>', response.content)
    assert match, "the page carries no lab-config"
    return dict(json.loads(match.group(1)))


@pytest.fixture
def signed_in() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user(username="analyst", password="pw"))
    return client


def test_anonymous_visitors_are_sent_to_the_login_page() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
    login = Client().get("/accounts/login/")
    assert login.status_code == 200
    assert b'data-testid="login-username"' in login.content


def test_login_with_a_password_lands_on_the_lab() -> None:
    get_user_model().objects.create_user(username="analyst", password="right-password")
    client = Client()
    wrong = client.post("/accounts/login/", {"username": "analyst", "password": "wrong"})
    assert wrong.status_code == 200 and b'data-testid="login-error"' in wrong.content
    response = client.post("/accounts/login/", {"username": "analyst", "password": "right-password"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_page_sets_the_csrf_cookie_its_script_sends_back(signed_in: Client) -> None:
    response = signed_in.get("/")
    assert "csrftoken" in response.cookies
    assert b'type="module"' in response.content and b"lab/lab.js" in response.content


@override_settings(WEBSOCKET_PUBLIC_URL="")
def test_websocket_defaults_to_the_page_origin(signed_in: Client) -> None:
    config = _config(signed_in)
    assert config["websocketUrl"] == ""
    assert config["websocketPath"] == "/ws/job-progress/"
    assert config["submitUrl"] == "/jobs/similarity/analyze"
    assert config["resultUrl"] == "/jobs/JOB_ID/result"
    assert config["cancelUrl"] == "/jobs/JOB_ID/cancel"


@override_settings(WEBSOCKET_PUBLIC_URL="ws://127.0.0.1:8001/ws/job-progress")
def test_websocket_url_keeps_the_routes_trailing_slash(signed_in: Client) -> None:
    assert lab_websocket_url() == "ws://127.0.0.1:8001/ws/job-progress/"
    assert _config(signed_in)["websocketUrl"] == "ws://127.0.0.1:8001/ws/job-progress/"


def test_the_holders_page_is_behind_login_and_submits_to_the_holders_api(signed_in: Client) -> None:
    response = Client().get("/holders/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/holders/"
    page = signed_in.get("/holders/")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    assert (
        b"lab/holders.js" in page.content and b'aria-current="page" data-testid="nav-holders"' in page.content
    )
    match = re.search(rb'<script id="lab-config" type="application/json">(.*?)</script>', page.content)
    assert match
    config = json.loads(match.group(1))
    assert config["submitUrl"] == "/jobs/token-holders/analyze"
    assert (config["defaultTop"], config["maxTop"], config["defaultEarly"], config["maxEarly"]) == (
        50,
        200,
        50,
        200,
    )
