"""A three-node cluster's configuration, without starting it: names, ports, quorum, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion.exceptions import StackError
from orion.topics import replication_for
from orionctl.stack import manager
from orionctl.stack.config import StackConfig
from orionctl.stack.kafka import Kafka, kafka_nodes


def _cfg(tmp_path: Path) -> StackConfig:
    return StackConfig(
        dir=tmp_path / "stack", kafka_port=20092, kafka_controller_port=20093,
        kafka_security="plaintext",
    )  # fmt: skip


def test_one_broker_keeps_its_name_and_ports(tmp_path: Path) -> None:
    (node,) = kafka_nodes(_cfg(tmp_path))
    assert (node.name, node.ports(), node.bootstrap()) == (
        "kafka",
        [20092, 20093],
        "127.0.0.1:20092",
    )


def test_three_nodes_take_ports_ten_apart_and_one_bootstrap_list(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    cfg.dir.mkdir(parents=True)
    cfg.brokers_file.write_text("3\n")
    nodes = manager.components(cfg, ())
    kafka = [c for c in nodes if isinstance(c, Kafka)]
    assert [k.name for k in kafka] == ["kafka-1", "kafka-2", "kafka-3"]
    assert [k.ports() for k in kafka] == [[20092, 20093], [20102, 20103], [20112, 20113]]
    assert len({k.home for k in kafka}) == 3
    bootstrap = "127.0.0.1:20092,127.0.0.1:20102,127.0.0.1:20112"
    assert kafka[2].client_config()["bootstrap.servers"] == bootstrap
    props = kafka[1]._quorum_props()
    assert props == {
        "controller.quorum.voters": "1@127.0.0.1:20093,2@127.0.0.1:20103,3@127.0.0.1:20113"
    }
    assert [c.name for c in manager._named(cfg, "kafka")] == ["kafka-1", "kafka-2", "kafka-3"]


def test_a_formatted_stack_refuses_another_broker_count(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    (Kafka(cfg).log_dirs).mkdir(parents=True)
    (Kafka(cfg).log_dirs / "meta.properties").write_text("")
    with pytest.raises(StackError, match="has 1 node"):
        manager.up(cfg, brokers=3)


@pytest.mark.parametrize(("brokers", "want"), [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2))])
def test_replication_follows_the_cluster_size(brokers: int, want: tuple[int, int]) -> None:
    assert replication_for(brokers) == want
