"""Serializer fields whose OpenAPI schema says exactly what they accept (checked by fuzzing the served API
against its schema: tests/integration/test_api_fuzz.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` only. DRF's BooleanField also takes 0, 1, "yes", "off" and the like, which the
    schema's `type: boolean` (and a client reading it) calls invalid."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class JsonListField(serializers.JSONField):
    """A list whose entries a service checks (and names, `wallets[3]`); this field bounds its length only,
    so a huge list is refused before any entry is looked at.

    The maximum is read from a setting at request time and when the schema is generated, so the documented
    `maxItems` is the enforced one. Fewer than `min_items` entries are left to the service, which words it
    better (e.g. "needs at least 2 distinct addresses").
    """

    def __init__(
        self,
        *,
        items_schema: dict[str, Any],
        min_items: int,
        max_items_setting: str,
        description: str,
        example: list[Any] | None = None,
        beyond_max_hint: str = "",
        **kwargs: Any,
    ) -> None:
        self.items_schema = items_schema
        self.beyond_max_hint = beyond_max_hint
        self.example = example
        self.min_items = min_items
        self.max_items_setting = max_items_setting
        self.description = description
        super().__init__(**kwargs)

    @property
    def max_items(self) -> int:
        return int(getattr(settings, self.max_items_setting))

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if isinstance(value, list) and len(value) > self.max_items:
            raise serializers.ValidationError(
                f"at most {self.max_items} entries ({self.max_items_setting}), got {len(value)}"
                + (f"; {self.beyond_max_hint}" if self.beyond_max_hint else "")
            )
        return value


class JsonListFieldSchema(OpenApiSerializerFieldExtension):
    target_class = JsonListField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        assert isinstance(field, JsonListField)
        schema = {
            "type": "array",
            "items": field.items_schema,
            "minItems": field.min_items,
            "maxItems": field.max_items,
            "description": f"{field.description} {field.min_items} to {field.max_items_setting} "
            f"({field.max_items}) entries.",
        }
        if field.example is not None:
            schema["example"] = field.example
        return schema


class JsonObjectField(serializers.DictField):
    """A JSON object a service checks key by key; `json_schema` documents what that service accepts."""

    def __init__(self, *, json_schema: dict[str, Any], **kwargs: Any) -> None:
        self.json_schema = json_schema
        super().__init__(**kwargs)


class JsonObjectFieldSchema(OpenApiSerializerFieldExtension):
    target_class = JsonObjectField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        assert isinstance(field, JsonObjectField)
        return field.json_schema


class StrictInputSerializer(serializers.Serializer):
    """A request body that refuses keys it does not declare (a misspelt `forse: true` must not pass
    silently), documented with `additionalProperties: false`. `schema_extra` is merged into the generated
    schema, for rules between fields that fields alone cannot say."""

    schema_extra: ClassVar[dict[str, Any]] = {}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = [str(key) for key in data if key not in self.fields]
            if unknown:
                allowed = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {key: [f"unknown field; fields: {allowed}"] for key in unknown}
                )
        return super().to_internal_value(data)


class StrictInputSerializerSchema(OpenApiSerializerExtension):
    target_class = StrictInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False, **self.target.schema_extra}
