"""The schema registry, through its Confluent-compatible API.

Subjects follow TopicNameStrategy (``<topic>-value``) and are kept BACKWARD
compatible: :meth:`Registry.register` refuses a change that consumers of the
previous version could not read. Lookups by id are cached, since ids never
change once assigned.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from fastavro import parse_schema

from orion.exceptions import (
    ConfigurationError,
    SchemaError,
    ServiceUnavailableError,
    UnknownSchemaError,
)
from orion.settings import OrionSettings

COMPATIBILITY = "BACKWARD"

# confluent-kafka's registry client talks through httpx or, in newer releases,
# its fork httpx2: a refused connection surfaces as either's TransportError.
_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)
try:
    import httpx2

    _TRANSPORT_ERRORS += (httpx2.TransportError,)
except ImportError:  # pragma: no cover - older confluent-kafka
    pass
_SUBJECT_NOT_FOUND = {40401, 40403, 40408}
_REFUSED = {401, 403}


class Registry:
    """A thin, typed wrapper over confluent-kafka's registry client."""

    def __init__(
        self, url: str, *, timeout_s: float = 10.0, auth: tuple[str, str] | None = None
    ) -> None:
        self.url = url
        self._user = auth[0] if auth else None
        conf: dict[str, Any] = {"url": url, "timeout": timeout_s}
        if auth is not None:
            conf["basic.auth.user.info"] = f"{auth[0]}:{auth[1]}"
        self._client = SchemaRegistryClient(conf)
        self._parsed_by_id: dict[int, Any] = {}

    @classmethod
    def of(cls, settings: OrionSettings, *, timeout_s: float = 10.0) -> Registry:
        """The registry the settings name, with their basic-auth credentials if any."""
        return cls(settings.schema_registry_url, timeout_s=timeout_s, auth=settings.registry_auth)

    def close(self) -> None:
        self._client.__exit__()  # type: ignore[no-untyped-call]

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except SchemaRegistryError as e:
            if e.http_status_code in _REFUSED:
                raise self._refused(e.http_status_code) from e
            raise
        except _TRANSPORT_ERRORS as e:
            raise ServiceUnavailableError(
                f"schema registry at {self.url} did not answer ({what}): {e}",
                fix="start it (`orion stack up`) or correct ORION_SCHEMA_REGISTRY_URL",
            ) from e

    def _refused(self, status: int) -> ConfigurationError:
        """A 401/403 as what it is: credentials missing or refused, naming the variables."""
        if self._user is None:
            return ConfigurationError(
                f"schema registry at {self.url} refused an unauthenticated request ({status})",
                fix="set ORION_SCHEMA_REGISTRY_USERNAME and ORION_SCHEMA_REGISTRY_PASSWORD "
                "(or _FILE), or correct ORION_SCHEMA_REGISTRY_URL",
            )
        return ConfigurationError(
            f"schema registry at {self.url} refused the credentials "
            f"(ORION_SCHEMA_REGISTRY_USERNAME={self._user}; check "
            f"ORION_SCHEMA_REGISTRY_PASSWORD) ({status})",
            fix="correct ORION_SCHEMA_REGISTRY_USERNAME and ORION_SCHEMA_REGISTRY_PASSWORD "
            "(or its _FILE)",
        )

    def _exists(self, subject: str) -> bool:
        try:
            self._call("subject lookup", self._client.get_latest_version, subject)
        except SchemaRegistryError as e:
            if e.http_status_code == 404:
                return False
            raise
        return True

    def check(self, subject: str, schema_text: str) -> bool:
        """True when ``schema_text`` may be registered under ``subject`` (new or compatible)."""
        if not self._exists(subject):
            return True
        result = self._call(
            "compatibility check",
            self._client.test_compatibility,
            subject,
            Schema(schema_text, "AVRO"),
        )
        return bool(result)

    def register(self, subject: str, schema_text: str) -> int:
        """Register (or find) the schema and return its id; SchemaError if incompatible."""
        if not self.check(subject, schema_text):
            raise SchemaError(
                f"{subject}: the new schema is not {COMPATIBILITY} compatible "
                "with the registered one",
                fix="add fields with defaults instead of removing or retyping fields, "
                "or publish the change under a new topic",
            )
        schema_id = self._call(
            "register", self._client.register_schema, subject, Schema(schema_text, "AVRO")
        )
        # A registry without per-subject config still enforces its global level.
        with contextlib.suppress(SchemaRegistryError):
            self._call(
                "compatibility config", self._client.set_compatibility, subject, COMPATIBILITY
            )
        return int(schema_id)

    def parsed_schema(self, schema_id: int) -> Any:
        """The writer schema of ``schema_id``, parsed by fastavro; cached forever."""
        parsed = self._parsed_by_id.get(schema_id)
        if parsed is None:
            try:
                schema = self._call("schema by id", self._client.get_schema, schema_id)
            except SchemaRegistryError as e:
                if e.http_status_code == 404:
                    raise UnknownSchemaError(f"schema id {schema_id} is not in the registry") from e
                raise
            parsed = parse_schema(json.loads(schema.schema_str))
            self._parsed_by_id[schema_id] = parsed
        return parsed
