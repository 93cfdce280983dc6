"""Database helpers the ORM lacks."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func, Value
from django.db.models.sql import UpdateQuery
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

ModelT = TypeVar("ModelT", bound=models.Model)

# Values of these field types go to psycopg as they are: its dumpers give the column's value (the ORM's
# per-value preparation for them only checks and re-wraps). Any other type is prepared by its field.
_PLAIN_TYPES = frozenset(
    {
        "BigIntegerField",
        "BinaryField",
        "BooleanField",
        "CharField",
        "DateTimeField",
        "DecimalField",
        "FloatField",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def bulk_insert_new(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], /, *, using: str = "default"
) -> int:
    """Insert rows of `model`, skipping any that conflict with a stored row, like
    `bulk_create(objs, ignore_conflicts=True)`; returns how many were inserted.

    A row maps field attnames (`wallet_id` for a foreign key) to values, every row the same keys; a field
    left out takes its default (`auto_now`/`auto_now_add`: the time of the call). Rows, not model instances:
    building an instance only to read its attributes back was a tenth of a wallet sync's CPU.

    On PostgreSQL it is one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` whose parameters are
    one array per column, bound server-side in binary. The ORM's bulk insert prepares every value in Python
    and quotes them all into one long statement that psycopg splits and the server parses: about half of a
    wallet sync's CPU, on the cores the other syncs and the database share (docs/ARCHITECTURE.md §14)."""
    if not rows:
        return 0
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    given = rows[0].keys()
    if unknown := set(given) - {field.attname for field in fields}:
        raise ValueError(f"{model.__name__} has no concrete field attname(s) {sorted(unknown)}")
    connection = connections[using]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        sqlite = cast(sqlite3.Connection, connection.connection)
        # INSERT OR IGNORE counts only the rows it inserted in the connection's change counter.
        before = sqlite.total_changes
        model._default_manager.using(using).bulk_create(
            [model(**row) for row in rows], ignore_conflicts=True, batch_size=1000
        )
        return sqlite.total_changes - before
    columns: list[list[Any]] = []
    casts: list[str] = []
    now = timezone.now()
    for field in fields:
        target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
        if field.attname in given:
            values = [row[field.attname] for row in rows]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values = [now] * len(rows)
        elif callable(field.default):
            values = [field.get_default() for _ in rows]
        else:
            values = [field.get_default()] * len(rows)
        if target.get_internal_type() not in _PLAIN_TYPES:
            values = [field.get_db_prep_save(value, connection) for value in values]
        columns.append(values)
        # %b: binary arrays. With %s psycopg picks text for arrays of str, quoting every element in Python.
        casts.append(f"%b::{field.db_type(connection)}[]")
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT * FROM unnest({', '.join(casts)}) "
        "ON CONFLICT DO NOTHING"
    )
    # The settings bind parameters server-side (config/settings.py), which `%b` needs.
    with transaction.mark_for_rollback_on_error(using=using), connection.cursor() as cursor:
        cursor.execute(statement, columns)
        return cursor.rowcount


def update_returning(
    rows: models.QuerySet[ModelT], /, *, fields: Sequence[str] | None = None, **values: Any
) -> list[ModelT]:
    """`rows.update(**values)` that also returns the rows it changed, as they are after the update, in the
    same statement (UPDATE ... RETURNING: PostgreSQL, SQLite 3.35+): every field, or only `fields` (and the
    primary key; the others are deferred, loaded if touched).

    A conditional claim (`filter(id=..., status=...)`) followed by a read of the row is two round trips on
    the hottest path of every job; this is one. The statement is Django's own UPDATE (values, expressions
    and filters compiled as `update()` compiles them), and each column is converted as a query would
    convert it."""
    query = cast(UpdateQuery, rows.query.chain(UpdateQuery))
    query.add_update_values(values)
    query.clear_select_clause()
    compiler = query.get_compiler(rows.db)
    update_sql, params = compiler.as_sql()
    if not update_sql:
        return []
    meta = rows.model._meta
    quote = compiler.quote_name_unless_alias
    names = set(fields or ())
    wanted = [
        field
        for field in meta.concrete_fields
        if fields is None or field.primary_key or {field.name, field.attname} & names
    ]
    if unknown := names - {name for field in wanted for name in (field.name, field.attname)}:
        raise ValueError(f"{rows.model.__name__} has no concrete field(s) {sorted(unknown)}")
    columns = ", ".join(quote(field.column) for field in wanted)
    connection = connections[rows.db]
    with transaction.mark_for_rollback_on_error(using=rows.db), connection.cursor() as cursor:
        cursor.execute(f"{update_sql} RETURNING {columns}", params)
        fetched = cursor.fetchall()
    # What a query's compiler would apply to each column (e.g. JSON text to objects, SQLite's dates).
    converters: list[tuple[Any, list[Any]]] = []
    for field in wanted:
        column = field.get_col(meta.db_table)
        field_converters = cast(Any, field).get_db_converters(connection)
        converters.append((column, [*connection.ops.get_db_converters(column), *field_converters]))
    attnames = [field.attname for field in wanted]
    found = []
    for row in fetched:
        converted_row = []
        for stored, (column, applied) in zip(row, converters, strict=True):
            converted = stored
            for converter in applied:
                converted = converter(converted, column, connection)
            converted_row.append(converted)
        found.append(rows.model.from_db(rows.db, attnames, converted_row))
    return found


class JSONSetKey(Func):
    """A JSON object column (NULL taken as `{}`) with one top-level `key` set to `value`, computed by the
    database: an UPDATE with it neither reads the column into Python nor writes the whole object back
    (a job's result is the whole similarity output; its enrichment is one key of it)."""

    output_field = models.JSONField()

    def __init__(self, column: str, *, key: str, value: Any) -> None:
        if not key.isidentifier():
            raise ValueError(f"JSON key {key!r} must be a plain identifier")
        super().__init__(F(column), Value(json.dumps(value)))
        self.key = key

    def _parts(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, str, list[Any]]:
        column, value = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        value_sql, value_params = compiler.compile(value)
        return column_sql, value_sql, [*column_params, *value_params]

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        column_sql, value_sql, params = self._parts(compiler, connection)
        return f"json_set(COALESCE({column_sql}, '{{}}'), '$.{self.key}', json({value_sql}))", params

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        column_sql, value_sql, params = self._parts(compiler, connection)
        return (
            f"jsonb_set(COALESCE({column_sql}, '{{}}'::jsonb), '{{{self.key}}}', ({value_sql})::jsonb)",
            params,
        )
