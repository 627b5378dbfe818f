"""The chaos drill (``make chaos``): a steady stream, a fault a minute, then every check.

Runs :func:`orionctl.drills.chaos.run_chaos` on the local stack and prints the
faults it injected and the verdict of every check; exits 1 when one failed.
The defaults are the full drill: 15 minutes at 2,500 events/s, a random
pipeline service SIGKILLed every 60 s and Kafka, PostgreSQL and S3 each
restarted once, after a fault-free reference run of the same seed.

Usage: python -m bench.chaos [--minutes 15] [--rate 2500] [--every 60]
       [--restarts kafka,postgres,s3] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from orion.settings import load_settings
from orionctl.drills.chaos import ChaosPlan, run_chaos


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--rate", type=float, default=2500.0)
    p.add_argument("--every", type=float, default=60.0, help="seconds between faults")
    p.add_argument("--restarts", default="kafka,postgres,s3", help="stack services, in turn")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workdir", type=Path, default=None)
    a = p.parse_args()
    plan = ChaosPlan(minutes=a.minutes, rate=a.rate, fault_every_s=a.every, seed=a.seed,
                     stack_restarts=tuple(r for r in a.restarts.split(",") if r))  # fmt: skip
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="orion-chaos-"))
    started = time.monotonic()

    def report(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.0f}s] {msg}", flush=True)

    result = run_chaos(load_settings(), plan, workdir, report)
    print(f"\nchaos {result.prefix.rstrip('.')}: {result.events} events at {plan.rate:.0f}/s; "
          f"reference {result.reference_s:.0f}s, produced in {result.produced_s:.0f}s, "
          f"caught up {result.caught_up_s:.0f}s later; logs in {workdir}")  # fmt: skip
    print(f"faults injected ({len(result.faults)}):")
    for line in result.faults:
        print(f"  {line}")
    print(f"services that exited by themselves and were restarted: {result.exits or 'none'}")
    print("checks:")
    for check in result.checks:
        print(f"  {check.line()}")
    print("RESULT:", "PASS" if result.ok else "FAIL")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
