"""versitygw: an S3-compatible gateway over a POSIX directory.

Built from its Go module at a pinned tag (``go install``, pure Go, no cgo)
into the download cache. Keys are passed through the environment, not the
command line, so ``ps`` does not show them.
"""

from __future__ import annotations

import os
from pathlib import Path

from orionctl.stack.component import Component
from orionctl.stack.install import cached_install, require_tool, run_step

VERSITYGW_VERSION = "v1.7.0"
VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw"
GO_FIX = "install Go 1.22+ and make sure the Go module proxy is reachable"


class S3Store(Component):
    name = "s3"
    port_variable = "ORION_STACK_S3_PORT"

    @property
    def install_dir(self) -> Path:
        return self.cfg.cache_dir / f"versitygw-{VERSITYGW_VERSION}"

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.s3_port}"

    def ports(self) -> list[int]:
        return [self.cfg.s3_port]

    def endpoint(self) -> str:
        return self.url

    def install(self) -> None:
        go = require_tool(self.name, "go", fix=GO_FIX)

        def build(tmp: Path) -> None:
            env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(tmp / "bin")}
            run_step(
                self.name,
                [go, "install", f"{VERSITYGW_MODULE}@{VERSITYGW_VERSION}"],
                cwd=tmp,
                env=env,
                fix=GO_FIX,
            )

        cached_install(self.install_dir, build, component=self.name)

    @property
    def objects_dir(self) -> Path:
        return self.home / "objects"

    def initialise(self) -> None:
        self.objects_dir.mkdir(parents=True, exist_ok=True)

    def argv(self) -> list[str]:
        return [
            str(self.install_dir / "bin" / "versitygw"),
            "--port",
            f"{self.cfg.host}:{self.cfg.s3_port}",
            "posix",
            str(self.objects_dir),
        ]

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "ROOT_ACCESS_KEY": self.cfg.s3_access_key,
            "ROOT_SECRET_KEY": self.cfg.s3_secret_key,
        }

    def client(self) -> object:
        # boto3 here, not at the top: every `orion` command imports the stack manager,
        # and boto3 is ~0.3 s of each start-up (python -X importtime).
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.cfg.s3_access_key,
            aws_secret_access_key=self.cfg.s3_secret_key,
            region_name="us-east-1",
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
        )

    def healthy(self) -> bool:
        import botocore.exceptions

        try:
            self.client().list_buckets()  # type: ignore[attr-defined]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            return False
        return True

    def after_start(self) -> None:
        import botocore.exceptions

        s3 = self.client()
        try:
            s3.head_bucket(Bucket=self.cfg.s3_bucket)  # type: ignore[attr-defined]
        except botocore.exceptions.ClientError:
            s3.create_bucket(Bucket=self.cfg.s3_bucket)  # type: ignore[attr-defined]
