import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from playground.core.data import MissingDataError
from playground.hosting.settings import HostSettings, SettingsError, from_env
from playground.hosting.worker import describe_failure

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_environment():
    assert from_env({}) == HostSettings(max_runs_cpu=1, max_runs_gpu=1, max_epochs=100, max_runs_kept=20)
    settings = from_env(
        {"PLAYGROUND_MAX_RUNS_CPU": "2", "PLAYGROUND_MAX_EPOCHS": "5", "PLAYGROUND_MAX_RUNS_KEPT": "3"}
    )
    assert (settings.max_runs_cpu, settings.max_epochs, settings.max_runs_kept) == (2, 5, 3)


def test_worker_threads_follow_the_cores_this_process_may_use():
    """Under taskset or a container's CPU set, os.cpu_count() overstates the cores; a worker
    given that many threads would only make them take turns."""
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from playground.hosting.settings import HostSettings; "
        "from playground.core.system import usable_cores; "
        "print(usable_cores(), HostSettings().worker_threads)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.split() == ["1", "1"]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
@pytest.mark.parametrize("runs_at_once, threads", [(1, 2), (2, 1)])
def test_two_cores_are_shared_among_the_runs_that_train_at_once(runs_at_once, threads):
    code = (
        "import os; os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2]); "
        "from playground.hosting.settings import HostSettings; "
        f"print(HostSettings(max_runs_cpu={runs_at_once}).worker_threads)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert int(result.stdout) == threads


@pytest.mark.parametrize(
    "variable, value",
    [
        ("PLAYGROUND_MAX_RUNS_CPU", "0"),
        ("PLAYGROUND_MAX_EPOCHS", "101"),
        ("PLAYGROUND_MAX_RUNS_GPU", "many"),
        ("PLAYGROUND_MAX_RUNS_KEPT", "-1"),
    ],
)
def test_bad_values_name_the_variable_and_range(variable, value):
    with pytest.raises(SettingsError, match=f"{variable}='{value}': must be an integer from"):
        from_env({variable: value})


def test_failure_messages():
    oom = describe_failure(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert "smaller batch size" in oom and "CPU" in oom and "Tried to allocate" not in oom
    assert describe_failure(MissingDataError("Put the files there")) == "Put the files there"
    assert describe_failure(ValueError("bad")) == "ValueError: bad"
