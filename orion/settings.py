"""Typed, validated settings for every ``orion`` command and test.

Endpoints come from ``ORION_*`` environment variables, falling back to the
endpoints file that ``orion stack up`` writes (``$ORION_STACK_DIR/env``,
default ``.stack/env``). The environment always wins over the file, so a
deployment (docker-compose, Kubernetes) sets variables and never needs the
file.

Settings are built when a command starts (:func:`load_settings`), never at
import time, and a bad value stops the command with one message naming the
variable and how to fix it.

Every secret (a ``SecretStr`` field, here or in a stage's settings) may also
come from a file named by ``<VARIABLE>_FILE``, the Docker secrets convention
(:class:`SecretFiles`); secrets are masked whenever settings are printed.

The database has one URL per role (``warehouse_sql/0010_roles.sql``): the
owner's (``ORION_DATABASE_URL``: migrations, backup and restore, operator
tools), the loader's (``ORION_LOADER_DATABASE_URL``: the warehouse and dq
sinks) and the analyst's (``ORION_ANALYST_DATABASE_URL``: reports). An unset
loader or analyst URL falls back to the owner's with a warning: a deployment
that has not split its roles yet keeps working, and the analytics views mask
PII for every reader anyway, so the fallback costs least privilege, never
correctness. The three URLs are one group: when ``ORION_DATABASE_URL`` is
set in the environment, the role URLs are read from the environment too and
never from the stack's endpoints file, so pointing the owner's URL at
another database or server (a test, a one-off run) cannot leave the loader
writing to the stack's warehouse.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypeVar, get_args
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from orion import database_url, kafka_config
from orion.exceptions import ConfigurationError

ENV_PREFIX = "ORION_"

#: The variables the endpoints file holds, in the order it writes them.
ENDPOINT_VARIABLES: tuple[str, ...] = (
    "ORION_KAFKA_BOOTSTRAP",
    "ORION_SCHEMA_REGISTRY_URL",
    "ORION_DATABASE_URL",
    "ORION_LOADER_DATABASE_URL",
    "ORION_ANALYST_DATABASE_URL",
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


FILE_SUFFIX = "_FILE"

_log = logging.getLogger(__name__)


def is_secret(annotation: Any) -> bool:
    """Whether a field's type is ``SecretStr`` (or ``SecretStr | None``)."""
    return annotation is SecretStr or SecretStr in get_args(annotation)


def secret_variables(cls: type[BaseSettings]) -> dict[str, str]:
    """Field name -> environment variable of every secret field of ``cls``."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    out = {}
    for name, field in cls.model_fields.items():
        if is_secret(field.annotation):
            alias = field.validation_alias
            out[name] = alias if isinstance(alias, str) else (prefix + name).upper()
    return out


class SecretFiles(PydanticBaseSettingsSource):
    """Secrets read from the file ``<VARIABLE>_FILE`` names (Docker and Kubernetes secrets).

    Who uses it: every settings class built on :class:`OrionBaseSettings`,
    between the environment and the stack's endpoints file. Setting both the
    variable and its ``_FILE`` is refused rather than one silently winning; a
    file that cannot be read stops start-up naming the file. One trailing
    newline (what ``echo`` and editors add) is not part of the secret.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is done in __call__

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, variable in secret_variables(self.settings_cls).items():
            path = os.environ.get(variable + FILE_SUFFIX)
            if path is None:
                continue
            if os.environ.get(variable) is not None:
                raise ConfigurationError(
                    f"both {variable} and {variable}{FILE_SUFFIX} are set",
                    fix=f"unset {variable} or {variable}{FILE_SUFFIX} (the file holding it)",
                )
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
                raise ConfigurationError(
                    f"{variable}{FILE_SUFFIX} names {path}, which cannot be read ({reason})",
                    fix=f"make {path} readable by this user, or correct {variable}{FILE_SUFFIX}",
                ) from e
            out[name] = text.removesuffix("\n").removesuffix("\r")
        return out


class OrionBaseSettings(BaseSettings):
    """Base of every settings class: adds :class:`SecretFiles` to pydantic's sources."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            SecretFiles(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


class DatabaseLogin(NamedTuple):
    """A libpq URL and the variable it came from (for errors that name it)."""

    dsn: str
    variable: str


OWNER_URL = "ORION_DATABASE_URL"
LOADER_URL = "ORION_LOADER_DATABASE_URL"
ANALYST_URL = "ORION_ANALYST_DATABASE_URL"


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


class OrionSettings(OrionBaseSettings):
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
    schema_registry_username: Annotated[
        str | None, Field(description="registry basic-auth user (with the password)")
    ] = None
    schema_registry_password: Annotated[
        SecretStr | None, Field(description="registry basic-auth password")
    ] = None
    database_url: Annotated[
        SecretStr, Field(description="libpq URL of the warehouse's owner (orion_migrator)")
    ]
    loader_database_url: Annotated[
        SecretStr | None, Field(description="libpq URL of the sinks' login (orion_loader)")
    ] = None
    analyst_database_url: Annotated[
        SecretStr | None, Field(description="libpq URL of the reports' login (orion_analyst)")
    ] = None
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

    @field_validator("database_url", "loader_database_url", "analyst_database_url")
    @classmethod
    def _check_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
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
        """The owner's libpq URL with its password, for drivers only; never log it."""
        return self.database_url.get_secret_value()

    def _role_login(self, value: SecretStr | None, variable: str) -> DatabaseLogin:
        if value is not None:
            return DatabaseLogin(value.get_secret_value(), variable)
        _log.warning(
            f"{variable} is not set: connecting with {OWNER_URL}, the owner's login; "
            f"set {variable} to the role's own URL (least privilege)"
        )
        return DatabaseLogin(self.database_dsn, OWNER_URL)

    @property
    def owner_login(self) -> DatabaseLogin:
        """Migrations, backup and restore, operator tools (replay, lineage)."""
        return DatabaseLogin(self.database_dsn, OWNER_URL)

    @property
    def loader_login(self) -> DatabaseLogin:
        """The warehouse and dq sinks (orion_loader); the owner's with a warning when unset."""
        return self._role_login(self.loader_database_url, LOADER_URL)

    @property
    def analyst_login(self) -> DatabaseLogin:
        """``orion report``, ``orion dq`` (orion_analyst); the owner's with a warning when unset."""
        return self._role_login(self.analyst_database_url, ANALYST_URL)

    def on_database(self, database: str) -> OrionSettings:
        """The same settings with every role's URL moved to ``database`` (same server)."""
        update: dict[str, SecretStr] = {}
        for field in ("database_url", "loader_database_url", "analyst_database_url"):
            value = getattr(self, field)
            if value is not None:
                moved = database_url.with_database(value.get_secret_value(), database)
                update[field] = SecretStr(moved)
        return self.model_copy(update=update)

    def database_env(self, database: str) -> dict[str, str]:
        """The URL variables of every role set, moved to ``database`` (a child's environment)."""
        moved = self.on_database(database)
        out = {OWNER_URL: moved.database_dsn}
        for value, variable in (
            (moved.loader_database_url, LOADER_URL),
            (moved.analyst_database_url, ANALYST_URL),
        ):
            if value is not None:
                out[variable] = value.get_secret_value()
        return out

    @property
    def registry_auth(self) -> tuple[str, str] | None:
        """Basic-auth user and password for the registry, or None when not configured."""
        if self.schema_registry_username is None:
            return None
        password = self.schema_registry_password
        return self.schema_registry_username, password.get_secret_value() if password else ""


def load_settings(stack_dir: Path | None = None) -> OrionSettings:
    """Build the settings from the environment and the stack's endpoints file.

    Raises :class:`ConfigurationError` naming every missing or invalid
    variable, so a service stops at start-up instead of failing later.
    """
    env_file = (stack_dir or default_stack_dir()) / "env"
    try:
        settings = OrionSettings(_env_file=env_file if env_file.is_file() else None)  # type: ignore[call-arg]
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
    return _database_urls_from_one_source(settings)


def _in_environment(variable: str) -> bool:
    return variable in os.environ or variable + FILE_SUFFIX in os.environ


def _database_urls_from_one_source(settings: OrionSettings) -> OrionSettings:
    """Role URLs of the endpoints file dropped when the owner's URL came from the environment."""
    if not _in_environment(OWNER_URL):
        return settings
    update = {
        field: None
        for field, variable in (
            ("loader_database_url", LOADER_URL),
            ("analyst_database_url", ANALYST_URL),
        )
        if not _in_environment(variable)
    }
    return settings.model_copy(update=update) if update else settings


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
