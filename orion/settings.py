"""Typed, validated settings for every ``orion`` command and test.

Endpoints come from ``ORION_*`` environment variables, falling back to the
endpoints file that ``orion stack up`` writes (``$ORION_STACK_DIR/env``,
default ``.stack/env``). The environment always wins over the file, so a
deployment (docker-compose, Kubernetes) sets variables and never needs the
file.

Settings are built when a command starts (:func:`load_settings`), never at
import time, and a bad value stops the command with one message naming the
variable and how to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from orion import database_url, kafka_config
from orion.exceptions import ConfigurationError

ENV_PREFIX = "ORION_"

#: The variables the endpoints file holds, in the order it writes them.
ENDPOINT_VARIABLES: tuple[str, ...] = (
    "ORION_KAFKA_BOOTSTRAP",
    "ORION_SCHEMA_REGISTRY_URL",
    "ORION_DATABASE_URL",
    "ORION_S3_ENDPOINT",
    "ORION_S3_ACCESS_KEY",
    "ORION_S3_SECRET_KEY",
    "ORION_S3_BUCKET",
    "ORION_PROMETHEUS_URL",
    "ORION_KAFKA_SECURITY_PROTOCOL",
    "ORION_KAFKA_SASL_USERNAME",
    "ORION_KAFKA_SASL_PASSWORD",
    "ORION_KAFKA_CA_FILE",
)


def default_stack_dir() -> Path:
    """Where the local stack keeps data, logs and its endpoints file."""
    return Path(os.environ.get("ORION_STACK_DIR", ".stack")).expanduser().resolve()


def _http_url(value: str, *, field: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(
            f"{field} must be an http(s) URL such as http://127.0.0.1:8080, got {value!r}"
        )
    return value.rstrip("/")


class OrionSettings(BaseSettings):
    """Where the backing services are, and the knobs every service shares."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        frozen=True,
        env_file_encoding="utf-8",
    )

    kafka_bootstrap: Annotated[
        str, Field(description="Kafka bootstrap servers, host:port[,host:port]")
    ]
    schema_registry_url: Annotated[
        str, Field(description="Confluent-compatible schema registry base URL")
    ]
    database_url: Annotated[SecretStr, Field(description="libpq URL of the warehouse database")]
    s3_endpoint: Annotated[str, Field(description="S3 endpoint URL")]
    s3_access_key: Annotated[str, Field(description="S3 access key id")]
    s3_secret_key: Annotated[SecretStr, Field(description="S3 secret access key")]
    s3_bucket: Annotated[str, Field(description="bucket of the bronze archive")]
    prometheus_url: Annotated[str, Field(description="Prometheus base URL")]
    s3_region: str = "us-east-1"
    log_level: str = "INFO"
    metrics_host: str = "127.0.0.1"
    metrics_port: Annotated[int, Field(ge=0, lt=65536)] = 0  # 0: any free port
    kafka_security_protocol: Annotated[
        kafka_config.Protocol,
        Field(description="PLAINTEXT only when chosen explicitly; the local stack's is SASL_SSL"),
    ] = "SASL_SSL"
    kafka_sasl_username: Annotated[
        str | None, Field(description="SCRAM-SHA-512 principal of this service")
    ] = None
    kafka_sasl_password: Annotated[
        SecretStr | None, Field(description="password of ORION_KAFKA_SASL_USERNAME")
    ] = None
    kafka_ca_file: Annotated[
        Path | None, Field(description="PEM file of the CA that signed the broker's certificate")
    ] = None
    topic_prefix: Annotated[
        str, Field(description="namespace before every topic name, e.g. `staging.`; tests use it")
    ] = ""

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port[,host:port], got {value!r}")
        return value

    @field_validator("kafka_sasl_username", "kafka_sasl_password", "kafka_ca_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("kafka_ca_file")
    @classmethod
    def _check_ca(cls, value: Path | None) -> Path | None:
        return None if value is None else kafka_config.check_ca_file(value.expanduser())

    @model_validator(mode="after")
    def _check_kafka_security(self) -> OrionSettings:
        protocol = self.kafka_security_protocol
        if kafka_config.uses_sasl(protocol):
            missing = [
                name
                for name, value in (
                    ("ORION_KAFKA_SASL_USERNAME", self.kafka_sasl_username),
                    ("ORION_KAFKA_SASL_PASSWORD", self.kafka_sasl_password),
                )
                if not value or (isinstance(value, SecretStr) and not value.get_secret_value())
            ]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} must be set when "
                    f"ORION_KAFKA_SECURITY_PROTOCOL={protocol}"
                )
        return self

    @field_validator("schema_registry_url", "s3_endpoint", "prometheus_url")
    @classmethod
    def _check_http(cls, value: str, info: ValidationInfo) -> str:
        return _http_url(value, field=ENV_PREFIX + str(info.field_name).upper())

    @field_validator("database_url")
    @classmethod
    def _check_database(cls, value: SecretStr) -> SecretStr:
        database_url.check(value.get_secret_value())
        return value

    @field_validator("s3_bucket")
    @classmethod
    def _check_bucket(cls, value: str) -> str:
        ok = 3 <= len(value) <= 63 and all(c.islower() or c.isdigit() or c in "-." for c in value)
        if not ok or not value[0].isalnum():
            raise ValueError(f"not a valid S3 bucket name: {value!r}")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("topic_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if value and (not value.endswith(".") or not all(c.isalnum() or c in "._-" for c in value)):
            raise ValueError("must be letters, digits, '.', '_' or '-', ending with '.'")
        return value

    def topic(self, name: str) -> str:
        """The real name of pipeline topic ``name`` (``raw.erp.sales``) under the prefix."""
        return self.topic_prefix + name

    def kafka_client_config(self) -> dict[str, Any]:
        """librdkafka's connection and security settings; every client starts from these.

        Holds the SASL password: pass it to clients, never log or print it.
        """
        password = self.kafka_sasl_password
        return kafka_config.client_config(
            self.kafka_bootstrap,
            self.kafka_security_protocol,
            self.kafka_sasl_username,
            password.get_secret_value() if password is not None else None,
            self.kafka_ca_file,
        )

    @property
    def database_dsn(self) -> str:
        """The libpq URL with its password, for drivers only; never log it."""
        return self.database_url.get_secret_value()


def load_settings(stack_dir: Path | None = None) -> OrionSettings:
    """Build the settings from the environment and the stack's endpoints file.

    Raises :class:`ConfigurationError` naming every missing or invalid
    variable, so a service stops at start-up instead of failing later.
    """
    env_file = (stack_dir or default_stack_dir()) / "env"
    try:
        return OrionSettings(_env_file=env_file if env_file.is_file() else None)  # type: ignore[call-arg]
    except ValidationError as e:
        problems = []
        for err in e.errors():
            reason = "is not set" if err["type"] == "missing" else err["msg"]
            if not err["loc"]:  # a check across fields names its variables itself
                problems.append(reason.removeprefix("Value error, "))
                continue
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"]).upper()
            problems.append(f"{name} {reason}")
        raise ConfigurationError(
            "invalid settings: " + "; ".join(problems),
            fix=f"run `orion stack up` (it writes {env_file}) or export the variables",
        ) from e


S = TypeVar("S", bound=BaseSettings)


def load_stage_settings(cls: type[S], **options: Any) -> S:
    """A stage's settings from the environment, with the options given (not None) on top.

    Who calls it: each long-running command, with its command-line options by
    field name; the defaults live in ``cls`` only. A value of the wrong type
    becomes a ConfigurationError naming the environment variable; a stage's
    own range checks raise ConfigurationError themselves.
    """
    try:
        return cls(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as e:
        prefix = str(cls.model_config.get("env_prefix") or "")
        problems, variables = [], []
        for err in e.errors():
            name = str(err["loc"][0]) if err["loc"] else "?"
            field = cls.model_fields.get(name)
            alias = field.validation_alias if field is not None else None
            variable = alias if isinstance(alias, str) else (prefix + name).upper()
            problems.append(f"{variable}: {err['msg']}")
            variables.append(variable)
        raise ConfigurationError(
            "invalid settings: " + "; ".join(problems),
            fix=f"correct the option or the variable {', '.join(dict.fromkeys(variables))}",
        ) from e
