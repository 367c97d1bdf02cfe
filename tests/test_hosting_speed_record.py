"""A server's measured training speeds outlive it: a restarted server estimates the shapes trained
before from their epochs, on the same machine only, and a bad record changes nothing."""

import json
import os
import subprocess
import sys

import pytest

from playground.core.config import FAST, TUTORIAL
from playground.hosting import budget, speed_record
from tests.harness import ROOT

MACHINE = {"format": 1, "device": "cpu", "machine": "test CPU", "cores": 2, "threads": 2}


def record(tmp_path, **different) -> speed_record.SpeedRecord:
    return speed_record.SpeedRecord(tmp_path / "speeds-cpu.json", {**MACHINE, **different})


def train_a_few_epochs(model: budget.CostModel) -> None:
    """Epochs of two presets at a machine's two speeds, the Tutorial's with a measured evaluation."""
    for seconds in [2.4e-3, 4.4e-3, 2.5e-3, 4.6e-3, 2.6e-3]:
        model.observe_epoch(TUTORIAL, seconds_per_step=seconds, eval_seconds=0.4)
    model.observe_epoch(FAST.replace(augment=0.7, precision="bf16"), seconds_per_step=0.02, eval_seconds=0.1)


def test_a_restarted_server_estimates_the_shapes_trained_before_as_the_last_one_did(tmp_path):
    before = budget.CostModel("cpu", record(tmp_path))
    fresh = budget.CostModel("cpu", record(tmp_path))  # nothing recorded yet: the prior
    train_a_few_epochs(before)
    after = budget.CostModel("cpu", record(tmp_path))
    for config in (TUTORIAL, FAST.replace(augment=0.7, precision="bf16")):
        assert after.estimate_seconds(config) == pytest.approx(before.estimate_seconds(config))
        assert after.estimate_seconds(config) != pytest.approx(fresh.estimate_seconds(config))
    assert after.estimate_range(TUTORIAL) == pytest.approx(before.estimate_range(TUTORIAL))
    assert after.eval_seconds(TUTORIAL) == pytest.approx(0.4)
    # Its own epochs join the recorded ones.
    after.observe_epoch(TUTORIAL, seconds_per_step=3e-3, eval_seconds=None)
    assert len(budget.CostModel("cpu", record(tmp_path))._measured[budget._shape_key(TUTORIAL)]) == 6


@pytest.mark.parametrize("change", [{"machine": "another CPU"}, {"threads": 1}, {"torch": "0.1"}])
def test_another_machines_record_is_not_used_and_is_replaced(tmp_path, change):
    train_a_few_epochs(budget.CostModel("cpu", record(tmp_path)))
    elsewhere = budget.CostModel("cpu", record(tmp_path, **change))
    assert elsewhere.estimate_seconds(TUTORIAL) == pytest.approx(
        budget.CostModel("cpu").estimate_seconds(TUTORIAL)
    )
    elsewhere.observe_epoch(FAST, seconds_per_step=0.01, eval_seconds=None)
    stored = json.loads((tmp_path / "speeds-cpu.json").read_text())
    assert stored["fingerprint"] == {**MACHINE, **change} and len(stored["shapes"]) == 1


DAMAGED = {
    "not JSON": "{'fingerprint': ",
    "half written": json.dumps({"fingerprint": MACHINE, "shapes": []})[:-5],
    "a list": "[1, 2, 3]",
    "negative seconds": [[[548, 252], True, "relu", "adam", True, 64, "fp32", False], [-1.0], None],
    "seconds as text": [[[548, 252], True, "relu", "adam", True, 64, "fp32", False], ["2e-3"], None],
    "an older shape": [[[548, 252], True, "relu", "adam", True, 64], [2e-3], None],
    "a batch of zero": [[[548, 252], True, "relu", "adam", True, 0, "fp32", False], [2e-3], None],
    "an hour a step": [[[548, 252], True, "relu", "adam", True, 64, "fp32", False], [2e-3], 1e9],
}


@pytest.mark.parametrize("damage", DAMAGED, ids=list(DAMAGED))
def test_a_damaged_record_is_ignored_and_rewritten_whole(tmp_path, damage):
    path = tmp_path / "speeds-cpu.json"
    text = DAMAGED[damage]
    if isinstance(text, list):
        shape, seconds, evaluation = text
        good = {"shape": shape, "seconds_per_step": [3e-3], "eval_seconds": None}  # trusted with it: none
        bad = {"shape": shape, "seconds_per_step": seconds, "eval_seconds": evaluation}
        text = json.dumps({"fingerprint": MACHINE, "shapes": [good, bad]})
    path.write_text(text)
    model = budget.CostModel("cpu", record(tmp_path))
    assert model.estimate_seconds(TUTORIAL) == pytest.approx(
        budget.CostModel("cpu").estimate_seconds(TUTORIAL)
    )
    model.observe_epoch(TUTORIAL, seconds_per_step=2e-3, eval_seconds=None)
    assert budget.CostModel("cpu", record(tmp_path)).seconds_per_step(TUTORIAL) == pytest.approx(2e-3)


def test_a_record_that_cannot_be_written_leaves_the_estimates_working(tmp_path):
    (tmp_path / "a file").write_text("")
    unwritable = speed_record.SpeedRecord(tmp_path / "a file" / "speeds-cpu.json", MACHINE)
    model = budget.CostModel("cpu", unwritable)
    model.observe_epoch(TUTORIAL, seconds_per_step=2e-3, eval_seconds=None)
    assert model.seconds_per_step(TUTORIAL) == pytest.approx(2e-3)
    assert os.listdir(tmp_path) == ["a file"]  # no half-written file left either


SERVER = """
import sys
from playground.core.config import RunConfig
from playground.hosting import shared
config = RunConfig(hidden=(96,), dropout=(0.1,), batch_size=256, epochs=2, device="cpu")
if sys.argv[1] == "train":
    shared.cost_model("cpu").observe_epoch(config, seconds_per_step=0.0123, eval_seconds=0.05)
print(shared.cost_model("cpu").seconds_per_step(config))
"""


def test_the_server_keeps_its_record_in_the_operators_state_folder(tmp_path, fake_mnist_dir):
    """Two server processes, one after the other (the first is the one that trained): the second
    estimates the shape at its measured speed. The record is in PLAYGROUND_STATE_DIR."""
    env = {**os.environ, "PLAYGROUND_STATE_DIR": str(tmp_path), "PLAYGROUND_DATA_DIR": str(fake_mnist_dir)}

    def server(mode: str) -> float:
        done = subprocess.run(
            [sys.executable, "-c", SERVER, mode],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return float(done.stdout.split()[-1])

    assert server("train") == pytest.approx(0.0123)
    assert [p.name for p in tmp_path.iterdir()] == ["speeds-cpu.json"]
    assert server("restart") == pytest.approx(0.0123)
    stored = json.loads((tmp_path / "speeds-cpu.json").read_text())
    assert stored["fingerprint"]["train_samples"] == 600  # the small MNIST's epochs are not MNIST's


def test_a_record_keeps_the_shapes_trained_latest_however_many_visitors_try(tmp_path):
    model = budget.CostModel("cpu", record(tmp_path))
    model.observe_epoch(TUTORIAL, seconds_per_step=2e-3, eval_seconds=0.4)
    widths = range(8, 8 + budget.MEASURED_SHAPES)  # as many other networks of one layer
    for width in widths:
        model.observe_epoch(
            FAST.replace(hidden=(width,), dropout=(0.2,)), seconds_per_step=1e-3, eval_seconds=0.1
        )
    restarted = budget.CostModel("cpu", record(tmp_path))
    assert len(restarted._measured) == len(restarted._eval) == budget.MEASURED_SHAPES
    assert restarted.seconds_per_step(FAST.replace(hidden=(widths[-1],), dropout=(0.2,))) == pytest.approx(
        1e-3
    )
    assert restarted.seconds_per_step(TUTORIAL) != pytest.approx(2e-3)  # the oldest: left out
