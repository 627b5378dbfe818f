"""Apache Kafka 4.x in KRaft mode: one combined broker and controller node, or three.

``orion stack up --brokers 3`` runs three combined (broker and controller)
nodes, ``kafka-1`` to ``kafka-3``: a three-voter quorum that survives one node
lost, at half the JVMs (and memory) of three controllers beside three brokers
on a 2-core machine. Node ``n`` listens on the configured ports plus
``NODE_PORT_STEP * (n - 1)``; the cluster defaults to replication factor 3 and
``min.insync.replicas=2``. All nodes share the one certificate (they listen
on the same loopback host, its SAN) and are formatted with the same SCRAM
users and cluster id. The count is remembered in ``$ORION_STACK_DIR/brokers``
until ``down --purge``.

Jars come from Maven Central through ``mvn dependency:copy-dependencies``; no
tarball download is needed. Topic auto-creation is off: the project creates
its topics with explicit partitions, retention and compaction.

The client port listens SASL_SSL only (SCRAM-SHA-512, the stack's own CA,
StandardAuthorizer with nothing allowed that no ACL allows); the principals
and their ACLs are in :mod:`orionctl.stack.kafka_access`. The controller
listener stays on loopback, SASL_PLAINTEXT with a PLAIN login for ``admin``
only (KRaft cannot check SCRAM before its metadata is loaded).
``ORION_STACK_KAFKA_SECURITY=plaintext`` gives the old unauthenticated
broker, for people who choose it.
"""

from __future__ import annotations

import base64
import logging
import uuid
from pathlib import Path
from typing import Any

from orion.exceptions import StackError
from orion.topics import replication_for
from orionctl.stack import kafka_access
from orionctl.stack.component import Component
from orionctl.stack.config import StackConfig
from orionctl.stack.install import cached_install, require_java, require_tool, run_step
from orionctl.stack.tls import BrokerTls, ensure_broker_tls

KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.17"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.orion.stack</groupId><artifactId>kafka-runtime</artifactId>
  <version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>{kafka}</version></dependency>
    <!-- direct, so it wins over the slf4j 1.x that arrives transitively:
         log4j-slf4j2-impl binds only to the 2.x API -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.cluster.name = kafka.cluster
logger.cluster.level = WARN
logger.log.name = kafka.log
logger.log.level = WARN
"""

# librdkafka logs every refused connection while the broker starts; the probe
# only needs yes or no, and the broker's own log says why.
_QUIET = logging.getLogger("orion.stack.probe")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

MAVEN_FIX = "install Maven (apt-get install -y maven) and make sure Maven Central is reachable"


def new_cluster_id() -> str:
    """A random KRaft cluster id that cannot be read as a command-line option.

    Kafka ids are 16 random bytes in URL-safe base64, whose alphabet includes
    ``-``. One id in 64 starts with it, and ``kafka-storage format`` then takes
    the id for an option and stops ("expected one argument"). Kafka's own
    ``Uuid.randomUuid`` draws again in that case; so does this.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


#: Node ``n`` of a cluster takes the configured ports plus this times ``n - 1``.
NODE_PORT_STEP = 10
MAX_BROKERS = 5


def remembered_brokers(cfg: StackConfig) -> int:
    """The broker count the last ``up --brokers`` chose (1 when none did)."""
    try:
        count = int(cfg.brokers_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return 1
    return count if 1 <= count <= MAX_BROKERS else 1


def kafka_nodes(cfg: StackConfig, count: int | None = None) -> list[Kafka]:
    """Every node of the stack's Kafka (``count`` None: the remembered count)."""
    n = remembered_brokers(cfg) if count is None else count
    return [Kafka(cfg, node=i, count=n) for i in range(1, n + 1)]


class Kafka(Component):
    """One node; ``Kafka(cfg)`` is the first, which also speaks for the cluster's clients."""

    port_variable = "ORION_STACK_KAFKA_PORT"

    def __init__(self, cfg: StackConfig, node: int = 1, count: int | None = None) -> None:
        super().__init__(cfg)
        self.count = remembered_brokers(cfg) if count is None else count
        if not 1 <= node <= self.count:
            raise StackError("kafka", f"no node {node} in a cluster of {self.count}")
        self.node = node
        #: ``kafka`` alone, ``kafka-1`` ... in a cluster (its home, log and pid file follow).
        self.name = "kafka" if self.count == 1 else f"kafka-{node}"

    def _shift(self, port: int, node: int | None = None) -> int:
        return port + NODE_PORT_STEP * ((self.node if node is None else node) - 1)

    @property
    def client_port(self) -> int:
        return self._shift(self.cfg.kafka_port)

    @property
    def controller_port(self) -> int:
        return self._shift(self.cfg.kafka_controller_port)

    @property
    def bench_port(self) -> int | None:
        bench = self.cfg.kafka_bench_port
        return None if bench is None else self._shift(bench)

    @property
    def install_dir(self) -> Path:
        return self.cfg.cache_dir / f"kafka-{KAFKA_VERSION}"

    @property
    def log_dirs(self) -> Path:
        return self.home / "logs"

    def ports(self) -> list[int]:
        bench = [] if self.bench_port is None else [self.bench_port]
        return [self.client_port, self.controller_port, *bench]

    def endpoint(self) -> str:
        """This node's client address (the status table's)."""
        return f"{self.cfg.host}:{self.client_port}"

    def bootstrap(self) -> str:
        """Every node's client address: what clients are given, so any one node may be down."""
        cfg = self.cfg
        return ",".join(
            f"{cfg.host}:{self._shift(cfg.kafka_port, n)}" for n in range(1, self.count + 1)
        )

    def install(self) -> None:
        require_java(self.name)
        mvn = require_tool(self.name, "mvn", fix=MAVEN_FIX)

        def build(tmp: Path) -> None:
            (tmp / "pom.xml").write_text(
                _POM.format(kafka=KAFKA_VERSION, slf4j=SLF4J_VERSION, log4j=LOG4J_VERSION)
            )
            run_step(
                self.name,
                [
                    mvn,
                    "-B",
                    "-q",
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={tmp / 'libs'}",
                ],
                cwd=tmp,
                fix=MAVEN_FIX,
            )

        cached_install(self.install_dir, build, component=self.name)

    def _classpath(self) -> str:
        return str(self.install_dir / "libs" / "*")

    @property
    def secured(self) -> bool:
        return self.cfg.kafka_security == "sasl_ssl"

    @property
    def tls(self) -> BrokerTls:
        return ensure_broker_tls(self.cfg.tls_dir, self.cfg.host)

    def client_config(self, principal: str = kafka_access.OPERATOR) -> dict[str, Any]:
        """What a client needs to reach the broker as ``principal`` (also the endpoints file's)."""
        if not self.secured:
            return {"bootstrap.servers": self.bootstrap(), "security.protocol": "PLAINTEXT"}
        return {
            "bootstrap.servers": self.bootstrap(),
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": principal,
            "sasl.password": kafka_access.password(self.cfg, principal),
            "ssl.ca.location": str(self.tls.ca_file),
        }

    def _listener_props(self) -> dict[str, str]:
        cfg = self.cfg
        port = self.client_port
        controller = f"CONTROLLER://{cfg.host}:{self.controller_port}"
        if not self.secured:
            return {
                "listeners": f"PLAINTEXT://{cfg.host}:{port},{controller}",
                "advertised.listeners": f"PLAINTEXT://{cfg.host}:{port}",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name": "PLAINTEXT",
            }
        tls = self.tls
        secret = kafka_access.password(cfg, kafka_access.ADMIN)
        scram = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{kafka_access.ADMIN}" password="{secret}";'
        )
        listeners = [f"SASL_SSL://{cfg.host}:{port}", controller]
        advertised = [f"SASL_SSL://{cfg.host}:{port}"]
        protocols = "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT"
        props = {}
        if self.bench_port is not None:
            listeners.append(f"BENCH://{cfg.host}:{self.bench_port}")
            advertised.append(f"BENCH://{cfg.host}:{self.bench_port}")
            protocols += ",BENCH:SASL_PLAINTEXT"
            props["listener.name.bench.sasl.enabled.mechanisms"] = "SCRAM-SHA-512"
            props["listener.name.bench.scram-sha-512.sasl.jaas.config"] = scram
        return props | {
            "listeners": ",".join(listeners),
            "advertised.listeners": ",".join(advertised),
            "listener.security.protocol.map": protocols,
            "inter.broker.listener.name": "SASL_SSL",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram,
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": (
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="{kafka_access.ADMIN}" password="{secret}" '
                f'user_{kafka_access.ADMIN}="{secret}";'
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(tls.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(tls.ca_file),
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{kafka_access.ADMIN}",
        }

    def initialise(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cfg = self.cfg
        formatted = (self.log_dirs / "meta.properties").is_file()
        scram: list[str] = []
        if self.secured:
            known = (kafka_access.secrets_dir(cfg) / kafka_access.ADMIN).is_file()
            if formatted and not known:
                raise StackError(
                    self.name,
                    f"the broker's storage in {self.log_dirs} was made without SASL users",
                    fix="`orion stack down --purge` then `orion stack up` (or keep it with "
                    "ORION_STACK_KAFKA_SECURITY=plaintext)",
                )
            passwords = kafka_access.ensure_passwords(cfg)
            for principal, secret in passwords.items():
                scram += ["--add-scram", f"SCRAM-SHA-512=[name={principal},password={secret}]"]
        factor, min_isr = (str(v) for v in replication_for(self.count))
        props = {
            "process.roles": "broker,controller",
            "node.id": str(self.node),
            **self._quorum_props(),
            **self._listener_props(),
            "controller.listener.names": "CONTROLLER",
            "log.dirs": str(self.log_dirs),
            "num.partitions": "6",
            "auto.create.topics.enable": "false",
            "default.replication.factor": factor,
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": factor,
            "offsets.topic.num.partitions": "12",
            "transaction.state.log.replication.factor": factor,
            "transaction.state.log.min.isr": min_isr,
            "transaction.state.log.num.partitions": "12",
            "share.coordinator.state.topic.replication.factor": factor,
            "share.coordinator.state.topic.min.isr": min_isr,
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
        }
        properties = self.home / "server.properties"
        properties.touch(mode=0o600)
        properties.chmod(0o600)  # it holds the admin password
        properties.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.home / "log4j2.properties").write_text(_LOG4J2)
        if not formatted:
            # A lone node bootstraps its quorum alone; a cluster's voters are static.
            alone = ["--standalone"] if self.count == 1 else []
            run_step(
                self.name,
                [
                    "java",
                    "-cp",
                    self._classpath(),
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={self._cluster_id()}",
                    "-c",
                    str(properties),
                    *alone,
                    *scram,
                ],
                cwd=self.home,
                fix=f"delete {self.log_dirs} (its storage could not be formatted) and retry",
            )

    def _quorum_props(self) -> dict[str, str]:
        host = self.cfg.host
        if self.count == 1:
            return {"controller.quorum.bootstrap.servers": f"{host}:{self.controller_port}"}
        voters = ",".join(
            f"{n}@{host}:{self._shift(self.cfg.kafka_controller_port, n)}"
            for n in range(1, self.count + 1)
        )
        return {"controller.quorum.voters": voters}

    def _cluster_id(self) -> str:
        """One id for every node of the cluster, made by whichever node is formatted first."""
        if self.count == 1:
            return new_cluster_id()
        path = self.cfg.dir / "data" / "kafka-cluster-id"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new_cluster_id() + "\n")
            return path.read_text().strip()

    def after_start(self) -> None:
        """Grant the operator and the services under the empty topic prefix; idempotent."""
        # A cluster's ACLs are its controllers': granted once, by the last node to be healthy.
        if not self.secured or self.node != self.count:
            return
        from confluent_kafka.admin import AdminClient

        # Not the probe's 2 s socket timeout: a busy quorum takes longer to commit ACLs.
        config: dict[str, Any] = {**self.client_config(kafka_access.ADMIN), "logger": _QUIET}
        admin = AdminClient(config)
        kafka_access.grant(
            admin, kafka_access.operator_bindings() + kafka_access.bindings(""), timeout_s=60
        )

    def _probe_config(self, principal: str) -> dict[str, Any]:
        return {**self.client_config(principal), "socket.timeout.ms": 2000, "logger": _QUIET}

    def _node_probe_config(self) -> dict[str, Any]:
        # Only this node: with the whole list, a healthy neighbour would answer for a dead one.
        return {**self._probe_config(kafka_access.ADMIN), "bootstrap.servers": self.endpoint()}

    def argv(self) -> list[str]:
        return [
            "java",
            "-Xms256m",
            f"-Xmx{self.cfg.kafka_heap if self.count == 1 else self.cfg.kafka_node_heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            self._classpath(),
            "kafka.Kafka",
            str(self.home / "server.properties"),
        ]

    def healthy(self) -> bool:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(self._node_probe_config())
        try:
            meta = admin.list_topics(timeout=2)
        except Exception:  # the probe's only job is yes/no; the log says why
            return False
        # In a cluster, healthy once this node is registered (unfenced) in the metadata.
        return self.node in meta.brokers
