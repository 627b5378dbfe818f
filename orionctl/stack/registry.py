"""Apicurio Registry 3.x, serving the Confluent-compatible API.

The Quarkus application comes from Maven Central as a tarball and stores
schemas in the stack's PostgreSQL, so registered ids survive restarts (an id
that changed would make every archived record undecodable).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import httpx

from orionctl.stack.component import Component
from orionctl.stack.install import cached_install, require_java, require_tool, run_step
from orionctl.stack.kafka import MAVEN_FIX

APICURIO_VERSION = "3.0.9"
CCOMPAT_PATH = "/apis/ccompat/v7"


class Registry(Component):
    name = "registry"
    requires = ("postgres",)
    port_variable = "ORION_STACK_REGISTRY_PORT"

    @property
    def install_dir(self) -> Path:
        return self.cfg.cache_dir / f"apicurio-registry-{APICURIO_VERSION}"

    @property
    def base_url(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.registry_port}"

    def ports(self) -> list[int]:
        return [self.cfg.registry_port]

    def endpoint(self) -> str:
        return self.base_url + CCOMPAT_PATH

    def install(self) -> None:
        require_java(self.name)
        mvn = require_tool(self.name, "mvn", fix=MAVEN_FIX)

        def build(tmp: Path) -> None:
            artifact = f"io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all"
            run_step(
                self.name,
                [
                    mvn,
                    "-B",
                    "-q",
                    "dependency:copy",
                    f"-Dartifact={artifact}",
                    f"-DoutputDirectory={tmp}",
                ],
                cwd=tmp,
                fix=MAVEN_FIX,
            )
            archive = next(tmp.glob("apicurio-registry-app-*.tar.gz"))
            with tarfile.open(archive) as tar:
                tar.extractall(tmp / "app", filter="data")
            archive.unlink()

        cached_install(self.install_dir, build, component=self.name)

    def _runner(self) -> Path:
        return next((self.install_dir / "app").glob("*-runner.jar"))

    def initialise(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)

    def argv(self) -> list[str]:
        c = self.cfg
        props = {
            "orion.stack.home": str(self.home),  # the pid-file marker
            "quarkus.http.host": c.host,
            "quarkus.http.port": str(c.registry_port),
            "apicurio.storage.kind": "sql",
            "apicurio.storage.sql.kind": "postgresql",
            "apicurio.datasource.url": f"jdbc:postgresql://{c.host}:{c.postgres_port}/{c.registry_db}",
            "apicurio.datasource.username": c.postgres_user,
            "apicurio.datasource.password": c.postgres_password,
            "apicurio.rest.deletion.artifact.enabled": "true",
            "apicurio.rest.deletion.artifact-version.enabled": "true",
            "quarkus.log.level": "WARN",
            'quarkus.log.category."io.apicurio".level': "INFO",
        }
        return [
            "java",
            "-Xms128m",
            f"-Xmx{c.registry_heap}",
            "-XX:+UseSerialGC",
            *(f"-D{k}={v}" for k, v in props.items()),
            "-jar",
            str(self._runner()),
        ]

    def healthy(self) -> bool:
        try:
            ready = httpx.get(self.base_url + "/health/ready", timeout=2)
            subjects = httpx.get(self.endpoint() + "/subjects", timeout=2)
        except httpx.HTTPError:
            return False
        return ready.status_code == 200 and subjects.status_code == 200
