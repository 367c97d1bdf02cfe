import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from playground.core.data import MissingDataError
from playground.hosting.settings import HostSettings, SettingsError, from_env
from playground.hosting.worker import OOM_MESSAGE, describe_failure

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_environment():
    assert from_env({}) == HostSettings(max_runs_cpu=1, max_runs_gpu=1, max_epochs=100, max_runs_kept=20)
    settings = from_env(
        {"PLAYGROUND_MAX_RUNS_CPU": "2", "PLAYGROUND_MAX_EPOCHS": "5", "PLAYGROUND_MAX_RUNS_KEPT": "3"}
    )
    assert (settings.max_runs_cpu, settings.max_epochs, settings.max_runs_kept) == (2, 5, 3)
    assert settings.worker_threads == max(1, len(os.sched_getaffinity(0)) // 2)


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
    assert (
        describe_failure(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
        == OOM_MESSAGE
    )
    assert "smaller batch size" in OOM_MESSAGE and "CPU" in OOM_MESSAGE
    assert describe_failure(MissingDataError("Put the files there")) == "Put the files there"
    assert describe_failure(ValueError("bad")) == "ValueError: bad"
