"""The engine on the small MNIST, through the real torchvision loader, on the CPU."""

import math
from collections import Counter

import pytest
import torch

from playground.core.config import RunConfig
from playground.core.engine import (
    DeviceUnavailableError,
    DoneEvent,
    EpochEvent,
    Evaluation,
    StepEvent,
    Trainer,
    evaluate,
    resolve_device,
)
from playground.core.model import architecture_rows, build_model, parameter_count
from playground.core.schedule import lr_at

SMALL = RunConfig(hidden=(64, 32), dropout=(0.1, 0.1), batch_size=32, epochs=4, lr=3e-3, device="cpu")


def losses(trainer):
    return [e.loss for e in trainer if isinstance(e, StepEvent)]


def test_loss_falls_and_accuracy_beats_chance(fake_mnist):
    events = list(Trainer(SMALL, fake_mnist))
    steps = [e for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert sum(s.loss for s in steps[-5:]) / 5 < 0.6 * sum(s.loss for s in steps[:5]) / 5
    assert epochs[-1].train_loss < epochs[0].train_loss
    assert events[-1].evaluation.accuracy > 0.5  # chance is 0.1


def test_events_come_in_order(fake_mnist):
    trainer = Trainer(SMALL, fake_mnist, log_every=5)
    events = list(trainer)
    assert isinstance(events[-1], DoneEvent) and not events[-1].stopped
    assert sum(isinstance(e, DoneEvent) for e in events) == 1
    epoch_numbers = [e.epoch for e in events if isinstance(e, EpochEvent)]
    assert epoch_numbers == [1, 2, 3, 4]
    global_steps = [e.global_step for e in events if isinstance(e, StepEvent)]
    assert global_steps == sorted(global_steps) and global_steps[-1] == trainer.total_steps
    # every epoch ends with a step event at its last step, then its epoch event
    for i, event in enumerate(events):
        if isinstance(event, EpochEvent):
            before = events[i - 1]
            assert isinstance(before, StepEvent) and before.step == trainer.steps_per_epoch
            assert before.epoch == event.epoch
    elapsed = [e.elapsed for e in events]
    assert elapsed == sorted(elapsed)
    assert trainer.steps_per_epoch == math.ceil(600 / 32)


def test_same_seed_same_losses_other_seed_others(fake_mnist):
    first = losses(Trainer(SMALL, fake_mnist))
    again = losses(Trainer(SMALL, fake_mnist))
    other = losses(Trainer(SMALL.replace(seed=1), fake_mnist))
    assert first == again
    assert first != other


def test_stop_ends_between_steps_and_keeps_the_partly_trained_model(fake_mnist):
    trainer = Trainer(SMALL.replace(epochs=50), fake_mnist, log_every=1)
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    events = []
    for event in trainer:
        events.append(event)
        if isinstance(event, StepEvent) and event.global_step == 30:
            trainer.stop()
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.stopped
    assert done.steps_completed == 30 and done.epochs_completed == 1
    assert not any(isinstance(e, StepEvent) and e.global_step > 30 for e in events)
    changed = trainer.model.state_dict()["output.weight"]
    assert not torch.equal(changed, initial["output.weight"])
    assert done.evaluation.accuracy == evaluate(trainer.model, fake_mnist.test_x, fake_mnist.test_y).accuracy


def test_trailing_batch_of_one_is_dropped(fake_mnist):
    trainer = Trainer(SMALL.replace(batch_size=599, epochs=1), fake_mnist)  # 600 = 599 + 1
    assert trainer.steps_per_epoch == 1
    assert [e for e in trainer][-1].steps_completed == 1


def test_last_partial_batch_is_trained(fake_mnist):
    trainer = Trainer(SMALL.replace(batch_size=256, epochs=1), fake_mnist)  # 256 + 256 + 88
    assert trainer.steps_per_epoch == 3
    assert list(trainer)[-1].steps_completed == 3


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("schedule", ["constant", "onecycle"])
def test_every_optimizer_and_schedule_learns(fake_mnist, optimizer, schedule):
    lr = 0.05 if optimizer == "sgd" else 3e-3
    config = SMALL.replace(optimizer=optimizer, schedule=schedule, lr=lr, epochs=3)
    events = list(Trainer(config, fake_mnist))
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert epochs[-1].train_loss < epochs[0].train_loss
    assert events[-1].evaluation.accuracy > 0.3


def test_onecycle_schedule_warms_up_then_anneals():
    values = [lr_at(s, 100, 0.01, "onecycle") for s in range(100)]
    assert values[0] == pytest.approx(0.01 / 25)
    assert max(values) == pytest.approx(0.01) and values.index(max(values)) == 25
    assert values[-1] < 0.0002
    assert all(a <= b for a, b in zip(values[:25], values[1:26]))
    assert all(a >= b for a, b in zip(values[25:], values[26:]))
    assert lr_at(50, 100, 0.02, "constant") == 0.02


def test_evaluation_confusion_and_misclassified(fake_mnist):
    model = build_model(SMALL)
    result = evaluate(model, fake_mnist.test_x, fake_mnist.test_y)
    assert result.confusion.shape == (10, 10) and int(result.confusion.sum()) == 200
    correct = int(result.confusion.diag().sum())
    assert result.accuracy == pytest.approx(correct / 200)
    assert len(result.misclassified) == 200 - correct
    wrong = result.misclassified
    assert bool((result.predictions[wrong] != fake_mnist.test_y[wrong]).all())
    assert model.training  # mode restored
    # The commonest mistakes, counted again from the predictions themselves.
    pairs = Counter(zip(fake_mnist.test_y[wrong].tolist(), result.predictions[wrong].tolist()))
    commonest = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[:3]
    assert result.most_confused(3) == [(true, guess, times) for (true, guess), times in commonest]


def test_most_confused_leaves_out_what_did_not_happen():
    confusion = torch.diag(torch.full((10,), 50))
    confusion[4, 9], confusion[7, 2], confusion[2, 7] = 6, 2, 2
    result = Evaluation(0.99, 0.1, confusion, torch.zeros(0), torch.zeros(0), torch.zeros(0))
    assert result.most_confused(5) == [(4, 9, 6), (2, 7, 2), (7, 2, 2)]


def test_model_shape_and_parameter_count():
    model = build_model(RunConfig())
    assert model(torch.randn(5, 784)).shape == (5, 10)
    expected = (784 * 548 + 548 + 2 * 548) + (548 * 252 + 252 + 2 * 252) + (252 * 10 + 10)
    assert parameter_count(model) == expected
    assert sum(r["parameters"] for r in architecture_rows(RunConfig())) == expected
    no_bn = build_model(RunConfig(batchnorm=False, activation="tanh"))
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in no_bn.modules())
    assert [a.shape for a in model.eval().activations(torch.randn(3, 784))] == [(3, 548), (3, 252)]


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    if torch.cuda.is_available():
        assert resolve_device("auto").type == "cuda"
    else:
        assert resolve_device("auto").type == "cpu"
        with pytest.raises(DeviceUnavailableError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_no_graph_on_cpu(fake_mnist):
    trainer = Trainer(SMALL.replace(epochs=1), fake_mnist)
    list(trainer)
    assert not trainer.graph_enabled and not trainer.uses_cuda_graph


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on CI)")
def test_cuda_graph_matches_eager_closely(fake_mnist_dir):
    from playground.core.data import load_mnist

    data = load_mnist(fake_mnist_dir, "cuda", download=False)
    config = SMALL.replace(device="cuda", epochs=2)
    graph = Trainer(config, data)
    graph_events = list(graph)
    assert graph.uses_cuda_graph and graph.graph_error is None
    eager_events = list(Trainer(config, data, use_cuda_graph=False))
    assert graph_events[-1].evaluation.accuracy == pytest.approx(
        eager_events[-1].evaluation.accuracy, abs=0.05
    )
