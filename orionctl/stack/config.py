"""Where the local stack lives and which loopback ports it uses.

Defaults stay off the products' usual ports (9092, 8081, 5432, 9000, 9090),
so a developer's own Kafka or PostgreSQL never clashes with the stack.
Every value can be overridden with an ``ORION_STACK_*`` variable
(``ORION_STACK_DIR``, ``ORION_STACK_KAFKA_PORT``, ...); the download cache
with ``ORION_CACHE_DIR``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orion.exceptions import ConfigurationError

Port = Annotated[int, Field(gt=1023, lt=65536)]


class StackConfig(BaseSettings):
    """Directories, ports and credentials of the local no-Docker stack."""

    model_config = SettingsConfigDict(env_prefix="ORION_STACK_", extra="ignore", frozen=True)

    dir: Path = Path(".stack")
    cache_dir: Path = Field(
        default=Path("~/.cache/orion"),
        validation_alias=AliasChoices("ORION_CACHE_DIR", "ORION_STACK_CACHE_DIR"),
    )
    host: str = "127.0.0.1"
    kafka_port: Port = 19092
    kafka_controller_port: Port = 19093
    registry_port: Port = 18081
    postgres_port: Port = 15432
    s3_port: Port = 17070
    prometheus_port: Port = 19090
    #: ``sasl_ssl``: SCRAM-SHA-512 over TLS with ACLs; ``plaintext`` only when chosen explicitly.
    kafka_security: Literal["sasl_ssl", "plaintext"] = "sasl_ssl"
    #: A second listener, SASL_PLAINTEXT (same principals and ACLs, no TLS), for the TLS benchmark.
    kafka_bench_port: Port | None = None
    # Airflow (only with `orion stack up --with airflow`): the api-server, the
    # scheduler's health endpoint, and the exporter of the DAGs' last successes.
    airflow_api_port: Port = 18280
    airflow_scheduler_port: Port = 18284
    airflow_exporter_port: Port = 18285
    airflow_db: str = "airflow"
    kafka_heap: str = "1g"
    #: Heap of each node when ``up --brokers`` runs more than one (three JVMs on 2 cores).
    kafka_node_heap: str = "512m"
    registry_heap: str = "384m"
    postgres_user: str = "orion"
    postgres_password: str = "orion"  # noqa: S105 - loopback-only development stack
    warehouse_db: str = "warehouse"
    registry_db: str = "registry"
    s3_access_key: str = "orion"
    s3_secret_key: str = "orion-local-secret"  # noqa: S105 - loopback-only development stack
    s3_bucket: str = "orion-bronze"
    health_timeout_s: float = Field(default=120.0, gt=0)

    @field_validator("dir", "cache_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if not (value.startswith("127.") or value in {"localhost", "::1"}):
            raise ValueError("the local stack listens on loopback only (127.0.0.0/8)")
        return value

    # Paths derived from the two roots; one place so that every component agrees.
    def data_dir(self, component: str) -> Path:
        return self.dir / "data" / component

    def log_file(self, component: str) -> Path:
        return self.dir / "logs" / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.dir / "run" / f"{component}.pid"

    @property
    def extras_file(self) -> Path:
        """Optional components the last ``orion stack up --with ...`` enabled."""
        return self.dir / "extras"

    @property
    def brokers_file(self) -> Path:
        """The Kafka node count the last ``orion stack up --brokers N`` chose."""
        return self.dir / "brokers"

    @property
    def env_file(self) -> Path:
        return self.dir / "env"

    @property
    def tls_dir(self) -> Path:
        """The throw-away CA and broker certificate (``ca.pem``, ``broker.pem``)."""
        return self.dir / "tls"

    @property
    def prometheus_sd_dir(self) -> Path:
        """File-based service discovery: one JSON file per running service."""
        return self.dir / "prometheus" / "targets"


def load_stack_config() -> StackConfig:
    """Build the stack configuration, turning validation errors into one clear message."""
    try:
        return StackConfig()
    except ValidationError as e:
        problems = [
            f"ORION_STACK_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in e.errors()
        ]
        raise ConfigurationError(
            "invalid stack configuration: " + "; ".join(problems),
            fix="correct or unset the ORION_STACK_* variables named above",
        ) from e
