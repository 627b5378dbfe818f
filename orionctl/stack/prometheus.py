"""Prometheus from Debian's package, scraping every running ``orion`` service.

Services come and go, so targets are found through file-based service
discovery: each service writes one JSON file into the stack's targets
directory (see :mod:`orion.metrics`) and removes it on exit. The alert rules
under ``deploy/prometheus/rules/`` are loaded as they are in docker-compose.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from orion.exceptions import StackError
from orionctl.stack.component import Component

APT_FIX = "install Prometheus: apt-get install -y prometheus (or run `make deps`)"
RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules"


class Prometheus(Component):
    name = "prometheus"
    port_variable = "ORION_STACK_PROMETHEUS_PORT"

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.prometheus_port}"

    def ports(self) -> list[int]:
        return [self.cfg.prometheus_port]

    def endpoint(self) -> str:
        return self.url

    def _binary(self) -> str:
        path = shutil.which("prometheus")
        if path is None:
            raise StackError(self.name, "the `prometheus` binary is not installed", fix=APT_FIX)
        return path

    def install(self) -> None:
        self._binary()

    def config(self) -> dict[str, object]:
        """The scrape configuration; JSON is valid YAML, so no YAML writer is needed."""
        return {
            "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
            "rule_files": [str(RULES_DIR / "*.yml")],
            "scrape_configs": [
                {
                    "job_name": "prometheus",
                    "static_configs": [
                        {"targets": [f"{self.cfg.host}:{self.cfg.prometheus_port}"]}
                    ],
                },
                {
                    "job_name": "orion",
                    "file_sd_configs": [
                        {
                            "files": [str(self.cfg.prometheus_sd_dir / "*.json")],
                            "refresh_interval": "5s",
                        }
                    ],
                },
            ],
        }

    def initialise(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.cfg.prometheus_sd_dir.mkdir(parents=True, exist_ok=True)
        (self.home / "prometheus.yml").write_text(json.dumps(self.config(), indent=2) + "\n")

    def argv(self) -> list[str]:
        return [
            self._binary(),
            f"--config.file={self.home / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.home / 'tsdb'}",
            "--storage.tsdb.retention.time=7d",
            f"--web.listen-address={self.cfg.host}:{self.cfg.prometheus_port}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
