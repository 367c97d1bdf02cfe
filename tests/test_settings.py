import os

import pytest
import torch

from playground.settings import HostSettings, SettingsError, from_env
from playground.worker import OOM_MESSAGE, describe_failure
from playground.data import MissingDataError


def test_defaults_and_environment():
    assert from_env({}) == HostSettings(max_runs_cpu=1, max_runs_gpu=1, max_epochs=100, max_runs_kept=20)
    settings = from_env({"PLAYGROUND_MAX_RUNS_CPU": "2", "PLAYGROUND_MAX_EPOCHS": "5", "PLAYGROUND_MAX_RUNS_KEPT": "3"})
    assert (settings.max_runs_cpu, settings.max_epochs, settings.max_runs_kept) == (2, 5, 3)
    assert settings.worker_threads == max(1, (os.cpu_count() or 1) // 2)


@pytest.mark.parametrize("variable, value", [("PLAYGROUND_MAX_RUNS_CPU", "0"), ("PLAYGROUND_MAX_EPOCHS", "101"),
                                              ("PLAYGROUND_MAX_RUNS_GPU", "many"), ("PLAYGROUND_MAX_RUNS_KEPT", "-1")])
def test_bad_values_name_the_variable_and_range(variable, value):
    with pytest.raises(SettingsError, match=f"{variable}='{value}': must be an integer from"):
        from_env({variable: value})


def test_failure_messages():
    assert describe_failure(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")) == OOM_MESSAGE
    assert "smaller batch size" in OOM_MESSAGE and "CPU" in OOM_MESSAGE
    assert describe_failure(MissingDataError("Put the files there")) == "Put the files there"
    assert describe_failure(ValueError("bad")) == "ValueError: bad"
