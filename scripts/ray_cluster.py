"""The Ray backend on a two-node Ray cluster made on this one machine (issue 15): its per-run
overhead, and the 10-session load test next to the local backend's.

    .venv/bin/python scripts/ray_cluster.py --data-dir ../shared/data [--sessions 10] [--runs 5] [--json]

1. Starts a Ray head (`ray start --head --num-cpus 1`) and a second node (`ray start --address …
   --num-cpus 1`), each with its own CPU, so that two runs train at once, one on each node.
   Token authentication stays on (Ray's default): the nodes and the app find the token in
   ~/.ray/auth_token with RAY_AUTH_MODE=token. Each node is a process group of its own, stopped
   by this script (not `ray stop`, which would stop every Ray on the machine).
2. Overhead: `--runs` short runs (784 → 64 → 10, batch 512, one epoch), one after another,
   through the Ray backend from this process, and the same through a warm local worker with one
   thread: time from Train to the first message of the task (Ray only), to the first training
   step, and the stream's delay (the task's send time of its first message to its arrival).
3. The load test (scripts/load_test.py) with `--sessions` browser sessions, once with the local
   backend (one run at a time, two threads) and once with PLAYGROUND_BACKEND=ray against the
   cluster (two runs at a time, one thread each); it counts the runs per node.
4. Stops the cluster and prints the figures as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.config import RunConfig  # noqa: E402
from tests.harness import wait_until  # noqa: E402

RAY = str(Path(sys.executable).with_name("ray"))
SHORT = RunConfig(hidden=(64,), dropout=(0.1,), batch_size=512, epochs=1, device="cpu")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ray_env() -> dict[str, str]:
    return {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT)}


def start_cluster(port: int, data_dir: Path) -> tuple[str, list[subprocess.Popen]]:
    """The two nodes, each `ray start --block` in a process group of its own: stopping them kills
    those groups only (`ray stop` would also kill any other Ray on this machine, a test's say)."""
    common = [
        "--num-cpus",
        "1",
        "--object-store-memory",
        str(500 * 2**20),
        "--disable-usage-stats",
        "--block",
    ]
    address = f"127.0.0.1:{port}"
    head = [RAY, "start", "--head", "--port", str(port), "--include-dashboard=false", *common]
    nodes = [start_node(head, {**ray_env(), "PLAYGROUND_DATA_DIR": str(data_dir)})]
    wait_until(lambda: answers(address), timeout=120, what="the Ray head")
    # The second node has no PLAYGROUND_DATA_DIR: it reads the server's folder (the same disk here).
    nodes.append(start_node([RAY, "start", "--address", address, *common], ray_env()))
    return address, nodes


def start_node(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    out = subprocess.DEVNULL
    return subprocess.Popen(command, env=env, start_new_session=True, stdout=out, stderr=out)


def answers(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return True
    except OSError:
        return False


def stop_cluster(nodes: list[subprocess.Popen]) -> None:
    for node in reversed(nodes):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(node.pid, sig)
                node.wait(15)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue


def time_runs(pool, data_dir: Path, runs: int) -> list[dict[str, float]]:
    """Per run: seconds from start to its first message and to its first step, and the delay of
    the first message (Ray's Placed carries its send time)."""
    from playground.hosting.runs import BackgroundRun, RunRecord
    from playground.hosting.slots import RunSlots

    figures = []
    for _ in range(runs):
        record = RunRecord(SHORT)
        started, wall = time.monotonic(), time.time()
        run = BackgroundRun(record, data_dir, RunSlots(), pool, max_seconds=600).start()
        placed_at = None
        while not record.steps and run.alive:
            if placed_at is None and record.placed is not None:
                placed_at = time.monotonic() - started
            time.sleep(0.002)
        first_step = time.monotonic() - started
        run.join(300)
        entry = {"first_step_s": first_step, "result_s": time.monotonic() - started}
        if record.placed is not None:
            entry["placed_s"] = placed_at if placed_at is not None else first_step
            entry["stream_delay_ms"] = 1000 * (wall + entry["placed_s"] - record.placed.sent)
            entry["node"] = record.placed.node[:8]
        figures.append(entry)
    return figures


def load_test(sessions: int, data_dir: Path, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "scripts/load_test.py", "--sessions", str(sessions), "--data-dir", str(data_dir),
         "--timeout", "1200", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    if not done.stdout.strip():
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(figures: list[dict[str, float]], key: str) -> str:
    values = [f[key] for f in figures if key in f]
    if not values:
        return "–"
    rest = values[1:] or values
    return f"{values[0]:.2f} first, {statistics.median(rest):.2f} median after"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    os.environ.update(RAY_AUTH_MODE="token", PLAYGROUND_DATA_DIR=str(data_dir))
    address, nodes = start_cluster(free_port(), data_dir)
    report: dict = {"cluster": address, "cpu_count": os.cpu_count()}
    try:
        import ray

        from playground.hosting import ray_backend
        from playground.hosting.worker import WorkerPool

        started = time.monotonic()
        ray_backend.connect(address, cpus=2)
        wait_until(lambda: len([n for n in ray.nodes() if n["Alive"]]) == 2, timeout=120, what="both nodes")
        report["connect_s"] = time.monotonic() - started
        ray_pool = ray_backend.RayPool(cpus_per_run=1, gpu_share=1.0)
        report["nodes"] = ray_pool.describe()
        report["ray_runs"] = time_runs(ray_pool, data_dir, args.runs)
        local_pool = WorkerPool(threads=1)
        local_pool.prewarm("cpu", str(data_dir))
        wait_until(lambda: local_pool._idle["cpu"][0].alive, what="the local worker")
        report["local_runs"] = time_runs(local_pool, data_dir, args.runs)
        local_pool.close()
        ray.shutdown()
        base = {**ray_env(), "PLAYGROUND_DATA_DIR": str(data_dir)}
        report["load_local"] = load_test(args.sessions, data_dir, {**base, "PLAYGROUND_BACKEND": "local"})
        report["load_ray"] = load_test(
            args.sessions, data_dir, {**base, "PLAYGROUND_BACKEND": "ray", "RAY_ADDRESS": address}
        )
    finally:
        stop_cluster(nodes)
    if args.json:
        print(json.dumps(report))
    else:
        print(table(report))
    return 0 if report["load_ray"]["passed"] and report["load_local"]["passed"] else 1


def table(report: dict) -> str:
    rows = [
        f"cluster: {report['nodes']} (two `ray start` nodes on this {report['cpu_count']}-core machine); "
        f"joining it took {report['connect_s']:.1f} s",
        "",
        "| per run (784 → 64 → 10, batch 512, 1 epoch) | Ray backend | local worker (warm) |",
        "|---|---|---|",
        f"| Train → first message of the task, s | {summary(report['ray_runs'], 'placed_s')} | – |",
        f"| Train → first training step, s | {summary(report['ray_runs'], 'first_step_s')} "
        f"| {summary(report['local_runs'], 'first_step_s')} |",
        f"| Train → result, s | {summary(report['ray_runs'], 'result_s')} "
        f"| {summary(report['local_runs'], 'result_s')} |",
        f"| stream delay of a message, ms | {summary(report['ray_runs'], 'stream_delay_ms')} | – |",
        "",
        f"| {report['load_ray']['sessions']} browser sessions, load test | local backend | Ray, two nodes |",
        "|---|---|---|",
    ]
    local, ray_ = report["load_local"], report["load_ray"]
    for label, key in (("fastest", "min"), ("median", "median"), ("slowest", "max")):
        rows.append(f"| time to result, {label}, s | {local['result_s'][key]} | {ray_['result_s'][key]} |")
    rows += [
        f"| wall time, s | {local['wall_s']} | {ray_['wall_s']} |",
        f"| errors | {local['error_count']} | {ray_['error_count']} |",
        f"| runs per node | – | {', '.join(f'{n}: {c}' for n, c in ray_['runs_per_node'].items())} |",
        f"| peak memory of the app server (+ its workers), MB | {local['peak_rss_mb']['total']} "
        f"| {ray_['peak_rss_mb']['total']} (Ray's processes apart) |",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
