"""Benchmark: a long soak at a steady rate; does any service's memory, fds or threads grow?

One pipeline run (its own topics and database) with the processor workers,
the bronze, warehouse, silver and dq sinks and the lag exporter as real
``orion`` services, and ``orion produce --events N --rate R`` (default
5,000,000 at 5,000/s). Every ``--sample`` seconds it reads each service's
RSS, open file descriptors and threads from /proc; the production period is
cut in tenths and each tenth's median printed per service. A service is flat
when its last tenth is within 10% of its fifth (the target) for all three.
Also the growth of the stack's Kafka, PostgreSQL and S3 data directories over
the run, the producer's rate held, the pipeline's drain time, and the
end-to-end latency per entity as ``bench/e2e.py`` measures it.

Every sample is also appended to ``samples.csv`` in the run's directory as it
is taken, so a soak stopped by hand (or killed) still has its figures:
``--summarise that.csv`` prints the same per-tenth table from it.

Usage: python -m bench.soak [--events 5000000] [--rate 5000] [--processors 2]
       [--partitions 6] [--sample 5]
       python -m bench.soak --summarise RUN_DIR/samples.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.e2e import latencies, print_table
from orion.settings import load_settings
from orionctl.pipeline_run import PipelineRun
from orionctl.stack.config import load_stack_config

METRICS = ("rss_mib", "fds", "threads")
Samples = dict[str, list[tuple[float, dict[str, float]]]]


def sample(pid: int) -> dict[str, float] | None:
    """RSS (MiB), open fds and threads of one process; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if "VmRSS" not in fields:
        return None  # exited, not yet reaped by the supervision (a zombie has no memory)
    return {
        "rss_mib": int(fields["VmRSS"].split()[0]) / 1024,
        "fds": float(fds),
        "threads": float(fields["Threads"].strip()),
    }


def du_mib(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=False)
    return int(out.stdout.split()[0]) / 1024 if out.returncode == 0 and out.stdout else 0.0


def read_samples(path: Path) -> Samples:
    """The samples a run wrote to its ``samples.csv``."""
    out: Samples = defaultdict(list)
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            out[row["service"]].append((float(row["t_s"]), {m: float(row[m]) for m in METRICS}))
    return out


def tenths_table(samples: Samples, span_s: float) -> bool:
    """Print each service's medians per tenth of ``span_s``; True when all but the producer
    are flat (last tenth within 10% of the fifth) in every metric."""
    flat_all = True
    for name, rows in sorted(samples.items()):
        tenths: list[list[dict[str, float]]] = [[] for _ in range(10)]
        for at, got in rows:
            tenths[min(int(at / span_s * 10), 9)].append(got)
        print(f"  {name}")
        verdicts = []
        for metric in METRICS:
            meds = [statistics.median(t[metric] for t in tenth) if tenth else float("nan")
                    for tenth in tenths]  # fmt: skip
            fifth, last = meds[4], meds[9]
            ratio = last / fifth if fifth else float("nan")
            flat = abs(ratio - 1) <= 0.10
            verdicts.append(flat)
            print(f"    {metric:8} per tenth: {' '.join(f'{m:.0f}' for m in meds)}  "
                  f"last/fifth {ratio:.2f} {'flat' if flat else 'GROWS'}")  # fmt: skip
        if name != "producer":
            flat_all = flat_all and all(verdicts)
    return flat_all


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5_000_000)
    p.add_argument("--rate", type=float, default=5000.0)
    p.add_argument("--processors", type=int, default=2)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--summarise", type=Path, help="print the table of a run's samples.csv")
    a = p.parse_args()
    if a.summarise is not None:
        stored = read_samples(a.summarise)
        span = max((t for rows in stored.values() for t, _ in rows), default=0.0) or 1.0
        print(f"{a.summarise}: {sum(map(len, stored.values()))} samples over {span:.0f}s")
        flat = tenths_table(stored, span)
        print("every service flat (last tenth within 10% of the fifth):", flat)
        return 0
    settings = load_settings()
    stack = load_stack_config()
    data = {name: stack.dir / "data" / name for name in ("kafka", "postgres", "s3")}
    workdir = Path(tempfile.mkdtemp(prefix="orion-soak-"))
    prefix = time.strftime("soak%H%M%S.")
    run = PipelineRun(settings, prefix=prefix, run_dir=workdir / prefix.rstrip("."),
                      database="orion_soak", partitions=a.partitions)  # fmt: skip
    run.prepare()
    before = {name: du_mib(path) for name, path in data.items()}
    samples: Samples = defaultdict(list)
    run.run_dir.mkdir(parents=True, exist_ok=True)
    sample_file = (run.run_dir / "samples.csv").open("w", newline="")
    sample_csv = csv.writer(sample_file)
    sample_csv.writerow(["t_s", "service", *METRICS])
    try:
        run.start_pipeline(a.processors, f"bench/{prefix.rstrip('.')}/silver")
        run.start("sink-dq", [])
        run.start("lag-exporter", [])
        producer = run.launch(
            ["produce", "--events", str(a.events), "--rate", str(a.rate), "--seed", str(a.seed)],
            principal="producer",
            log_name="producer",
        )
        t0 = time.monotonic()
        print(f"soak {prefix.rstrip('.')}: {a.events} events at {a.rate:.0f}/s "
              f"(~{a.events / a.rate / 60:.0f} min); logs and samples.csv in {run.run_dir}",
              flush=True)  # fmt: skip
        last_note = t0
        while producer.poll() is None:
            now = time.monotonic() - t0
            for name, proc in [*run.procs.items(), ("producer", producer)]:
                got = sample(proc.pid)
                if got is not None:
                    samples[name].append((now, got))
                    sample_csv.writerow([f"{now:.1f}", name, *(got[m] for m in METRICS)])
            sample_file.flush()
            run.supervise(lambda m: print(f"  {m}", flush=True))
            if time.monotonic() - last_note > 60:
                last = ", ".join(
                    f"{n} " + "/".join(f"{s[-1][1][m]:.0f}" for m in METRICS)
                    for n, s in samples.items()
                )
                print(f"  [{now:5.0f}s] RSS MiB/fds/threads: {last}", flush=True)
                last_note = time.monotonic()
            time.sleep(a.sample)
        produced_s = time.monotonic() - t0
        code = producer.wait()
        drained = run.wait_caught_up(3600, lambda m: print(f"  {m}", flush=True))
    finally:
        sample_file.close()
        run.stop()
    after = {name: du_mib(path) for name, path in data.items()}
    print(f"\nproduced {a.events} in {produced_s:.0f}s ({a.events / produced_s:.0f} events/s "
          f"held, exit {code}); drained {drained:.0f}s after; load {os.getloadavg()[0]:.1f}; "
          f"services restarted by the supervisor: {run.exits or 'none'}")  # fmt: skip
    flat_all = tenths_table(samples, produced_s)
    print_table("latency, producer's send to the warehouse row's commit", latencies(run.dsn, None))
    growth = ", ".join(f"{n} +{after[n] - before[n]:.0f} MiB (now {after[n]:.0f})" for n in data)
    print(f"  disk growth: {growth}")
    print("every service flat (last tenth within 10% of the fifth):", flat_all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
