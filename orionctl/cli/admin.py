"""``orion topics create`` and ``orion schemas register | check``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orion.catalog import LAYERS, entities, load_schema, load_schema_text, subject
from orion.exceptions import SchemaError
from orion.settings import load_settings
from orion.topics import create_topics, topic_specs
from orionctl.cli.console import out

topics_app = typer.Typer(help="Kafka topics of the pipeline.", no_args_is_help=True)
schemas_app = typer.Typer(help="Avro schemas in the registry.", no_args_is_help=True)


@topics_app.command("create")
def topics_create(
    partitions: Annotated[int, typer.Option(min=1)] = 6,
    retention_days: Annotated[float, typer.Option(min=0.001)] = 7.0,
    dlq_retention_days: Annotated[float, typer.Option(min=0.001)] = 30.0,
    replication_factor: Annotated[
        int | None,
        typer.Option(min=1, help="copies of each partition; default min(3, brokers)"),
    ] = None,
    min_insync_replicas: Annotated[
        int | None,
        typer.Option(min=1, help="copies an acks=all write needs; default 2 at factor 3, else 1"),
    ] = None,
) -> None:
    """Create every raw, clean and dead-letter topic that does not exist yet."""
    settings = load_settings()
    specs = topic_specs(
        partitions, retention_days, dlq_retention_days, prefix=settings.topic_prefix
    )
    result = create_topics(
        settings.kafka_client_config(),
        specs,
        replication_factor=replication_factor,
        min_insync_replicas=min_insync_replicas,
    )
    table = Table(title="topics")
    table.add_column("topic")
    table.add_column("state")
    for name in sorted(result):
        table.add_row(name, result[name])
    out.print(table)


def _schema_files(prefix: str) -> list[tuple[str, str]]:
    """(topic, schema text) for every raw and clean topic, each file validated first."""
    pairs = []
    for entity in entities():
        for layer in LAYERS:
            path = entity.schema_path(layer)
            load_schema(path)
            pairs.append((prefix + entity.topic(layer), load_schema_text(path)))
    return pairs


@schemas_app.command("register")
def schemas_register() -> None:
    """Register every schema; refuse a change that is not BACKWARD compatible."""
    from orion.registry import Registry  # here: the registry client is a second of imports

    settings = load_settings()
    with Registry.of(settings) as registry:
        for topic, text in _schema_files(settings.topic_prefix):
            out.print(f"{subject(topic)}: id {registry.register(subject(topic), text)}")


@schemas_app.command("check")
def schemas_check() -> None:
    """Check every schema file, and its compatibility with the registry, without registering."""
    from orion.registry import Registry

    settings = load_settings()
    bad = []
    with Registry.of(settings) as registry:
        for topic, text in _schema_files(settings.topic_prefix):
            ok = registry.check(subject(topic), text)
            out.print(f"{subject(topic)}: {'compatible' if ok else 'NOT compatible'}")
            if not ok:
                bad.append(subject(topic))
    if bad:
        raise SchemaError(
            f"not BACKWARD compatible: {', '.join(bad)}",
            fix="add fields with defaults instead of removing or retyping them",
        )
