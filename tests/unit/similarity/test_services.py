"""Request options of the similarity service: validation at submit time and defaults from the settings."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidInputError
from similarity.engine import CHANNELS, CO_TRADE, DEFAULT_EXCLUDED_MINTS, DEFAULT_WEIGHTS, SimilarityOptions
from similarity.services import (
    SIMILARITY_OPTIONS_JSON_SCHEMA,
    TUNABLE_OPTIONS,
    similarity_default_options,
    similarity_options_from,
    similarity_validate_options,
)
from wallets.selectors import WalletFundingRecord, WalletHistory


def fields_of(raw: object) -> dict[str, list[str]]:
    with pytest.raises(InvalidInputError) as caught:
        similarity_validate_options(raw)
    assert caught.value.status == 400 and caught.value.code == "invalid_input"
    return caught.value.fields


def test_no_options_means_the_defaults() -> None:
    assert similarity_validate_options({}) == {}
    assert similarity_validate_options(None) == {}
    assert similarity_options_from({}) == SimilarityOptions()
    assert similarity_options_from(None) == SimilarityOptions()


def test_valid_options_come_back_normalised() -> None:
    raw: dict[str, Any] = {
        "cluster_threshold": 1,
        "co_trade_window_s": 120.0,
        "top_pairs": 0,
        "evidence_tokens": 3,
        "common_token_share": None,
        "common_token_weight": 0,
        "weights": {CO_TRADE: 2, "binary_cosine": 0.5},
    }
    clean = similarity_validate_options(raw)
    assert clean == {
        "cluster_threshold": 1.0,
        "co_trade_window_s": 120,
        "top_pairs": 0,
        "evidence_tokens": 3,
        "common_token_share": None,
        "common_token_weight": 0.0,
        "weights": {CO_TRADE: 2.0, "binary_cosine": 0.5},
    }
    assert type(clean["co_trade_window_s"]) is int
    options = similarity_options_from(raw)
    assert options.cluster_threshold == 1.0 and options.co_trade_window_s == 120
    assert options.common_token_share is None
    assert options.channel_weights()[CO_TRADE] == pytest.approx(0.8)
    assert options.channel_weights()["capital_cosine"] == 0.0  # weights replace the defaults as a whole


def test_unknown_keys_are_refused_by_name() -> None:
    fields = fields_of({"cluster_treshold": 0.4, "cluster_threshold": 0.4, "excluded_mints": []})
    assert set(fields) == {"options.cluster_treshold", "options.excluded_mints"}
    assert "allowed: cluster_threshold" in fields["options.cluster_treshold"][0]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("cluster_threshold", 0, "must be in (0, 1]"),
        ("cluster_threshold", 1.5, "must be in (0, 1]"),
        ("cluster_threshold", "0.4", "must be a number"),
        ("cluster_threshold", True, "must be a number"),
        ("cluster_threshold", float("nan"), "must be a finite number"),
        ("cluster_threshold", 10**400, "must be a finite number"),
        ("co_trade_window_s", -1, "between 0 and 86400"),
        ("co_trade_window_s", 86_401, "between 0 and 86400"),
        ("co_trade_window_s", 1.5, "must be an integer"),
        ("top_pairs", 1_001, "between 0 and 1000"),
        ("top_pairs", None, "must be an integer"),
        ("evidence_tokens", [3], "must be an integer"),
        ("common_token_share", 0, "must be in (0, 1]"),
        ("common_token_weight", -0.1, "must be in [0, 1]"),
        ("weights", {"nope": 1}, "unknown channels nope"),
        ("weights", {CO_TRADE: -1}, "co_trade must be in [0, 1000]"),
        ("weights", {CO_TRADE: 1e308}, "co_trade must be in [0, 1000]"),
        ("weights", {CO_TRADE: 0}, "at least one channel"),
        ("weights", [], "must be an object"),
    ],
)
def test_bad_values_name_the_option_and_the_reason(key: str, value: object, message: str) -> None:
    fields = fields_of({key: value})
    assert list(fields) == [f"options.{key}"]
    assert message in fields[f"options.{key}"][0]


def test_every_bad_option_is_reported_at_once() -> None:
    with pytest.raises(InvalidInputError) as caught:
        similarity_validate_options({"top_pairs": -1, "evidence_tokens": "3", "weights": {}})
    assert set(caught.value.fields) == {"options.top_pairs", "options.evidence_tokens", "options.weights"}
    assert caught.value.message.startswith("Invalid similarity options: options.top_pairs:")


def test_options_that_are_not_an_object() -> None:
    assert fields_of(["cluster_threshold"]) == {"options": ["must be an object"]}


def test_defaults_come_from_the_settings(settings: Any) -> None:
    defaults = similarity_default_options()
    assert defaults == SimilarityOptions()  # the settings' defaults are the engine's documented ones
    assert dict(defaults.weights) == dict(DEFAULT_WEIGHTS)

    extra = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"  # e.g. an airdropped token everyone holds
    settings.SIMILARITY_EXTRA_EXCLUDED_MINTS = [extra]
    settings.SIMILARITY_COMMON_TOKEN_SHARE = 0.0
    settings.SIMILARITY_COMMON_TOKEN_WEIGHT = 0.1
    settings.SIMILARITY_CLUSTER_THRESHOLD = 0.42
    configured = similarity_default_options()
    assert configured.excluded_mints == DEFAULT_EXCLUDED_MINTS | {extra}
    assert configured.common_token_share is None  # 0 turns the down-weighting off
    assert configured.common_token_weight == 0.1
    assert configured.cluster_threshold == 0.42
    assert similarity_options_from({"cluster_threshold": 0.6}).cluster_threshold == 0.6  # a request wins


def test_the_worker_ignores_keys_it_does_not_read_but_refuses_bad_values(monkeypatch: Any) -> None:
    from similarity import services

    reads: list[str] = []
    monkeypatch.setattr(services, "wallet_latest_balances", lambda *, address: reads.append(address))
    monkeypatch.setattr(services, "wallets_swap_legs", lambda *, histories: {key: [] for key in histories})
    monkeypatch.setattr(services, "analysis_wallet_summaries", lambda **_: {})
    monkeypatch.setattr(
        services,
        "wallets_history",
        lambda *, addresses: {address: WalletHistory.empty(address) for address in addresses},
    )
    unknown = WalletFundingRecord(first=None, received=[], history_complete=False)
    monkeypatch.setattr(
        services, "wallets_funding", lambda *, addresses, histories: dict.fromkeys(addresses, unknown)
    )
    monkeypatch.setattr(services, "funders_fanout", lambda *, sources: {})

    # Internal callers tag params with keys of their own; the API refuses those at submit time instead.
    out = services.similarity_analyze(
        wallets=["A", "B"], failed_wallets=[], options={"tag": "low-1", "cluster_threshold": 0.7}
    )
    assert out["global"]["cluster_threshold"] == 0.7 and reads == ["A", "B"]

    reads.clear()
    with pytest.raises(InvalidInputError) as caught:
        services.similarity_analyze(wallets=["A", "B"], failed_wallets=[], options={"top_pairs": -1})
    assert list(caught.value.fields) == ["options.top_pairs"]
    assert reads == []  # refused before reading anything


def test_the_documented_options_are_the_checked_ones() -> None:
    properties = SIMILARITY_OPTIONS_JSON_SCHEMA["properties"]
    assert set(properties) == set(TUNABLE_OPTIONS)
    assert set(properties["weights"]["properties"]) == set(CHANNELS)
    assert SIMILARITY_OPTIONS_JSON_SCHEMA["additionalProperties"] is False


@pytest.mark.parametrize("name", [name for name in TUNABLE_OPTIONS if name != "weights"])
def test_the_documented_bounds_are_the_checked_ones(name: str) -> None:
    schema = SIMILARITY_OPTIONS_JSON_SCHEMA["properties"][name]
    step = 1 if schema["type"] == "integer" else 1e-9
    assert similarity_validate_options({name: schema["maximum"]}) == {name: schema["maximum"]}
    assert f"options.{name}" in fields_of({name: schema["maximum"] + step})
    low = schema["minimum"]
    if schema.get("exclusiveMinimum"):
        assert f"options.{name}" in fields_of({name: low})
        assert similarity_validate_options({name: low + step})
    else:
        assert similarity_validate_options({name: low}) == {name: low}
        assert f"options.{name}" in fields_of({name: low - step})
    if schema.get("nullable"):
        assert similarity_validate_options({name: None}) == {name: None}
    else:
        assert f"options.{name}" in fields_of({name: None})


def test_weights_need_one_channel_above_zero_as_documented() -> None:
    weights = SIMILARITY_OPTIONS_JSON_SCHEMA["properties"]["weights"]
    assert len(weights["anyOf"]) == len(CHANNELS)
    assert "options.weights" in fields_of({"weights": dict.fromkeys(CHANNELS, 0.0)})
    assert similarity_validate_options({"weights": {CO_TRADE: 1e-9}})
