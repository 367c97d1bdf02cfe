"""Device placement and matmul timing; the CUDA code paths run for real only where a GPU is."""

import pytest
import torch

from playground import figures
from playground.lessons import gpu_ops

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


def run_as_shown(code: str, namespace: dict) -> object:
    """Run a line of the lesson as a learner would type it: statements, then the last expression."""
    *statements, last = code.split("  #")[0].split("; ")
    for statement in statements:
        exec(statement, namespace)
    if last.startswith("device = "):
        exec(last, namespace)
        return namespace["device"]
    return eval(last, namespace)


def test_each_placement_line_shows_what_running_it_gives_on_this_machine():
    """Computed two ways: the lesson's result for each line equals running the line's text here."""
    namespace = {"torch": torch}
    steps = gpu_ops.placement_demo()
    assert len(steps) >= 6
    for step in steps:
        try:
            value = run_as_shown(step.code, namespace)
        except (RuntimeError, AssertionError) as err:
            assert not step.ok and step.result.startswith(f"{type(err).__name__}: "), step
            assert str(err).splitlines()[0].startswith(step.result.split(": ", 1)[1]), step
        else:
            assert step.ok and step.result == str(value), step


@pytest.mark.skipif(torch.cuda.is_available(), reason="shows the errors of a machine without CUDA")
def test_without_a_gpu_the_cuda_lines_show_their_errors():
    steps = {s.code: s for s in gpu_ops.placement_demo()}
    assert steps["torch.cuda.is_available()"].result == "False"
    assert steps["x.to(device).device"].result == "cpu"
    for line in ("x.cuda().device", 'torch.zeros(2, 3, device="cuda").device'):
        assert not steps[line].ok and steps[line].result.startswith(("RuntimeError", "AssertionError"))


def test_the_picked_device_is_the_one_the_lesson_shows_and_it_computes():
    shown = {s.code: s.result for s in gpu_ops.placement_demo()}
    device = gpu_ops.pick_device()
    assert shown['device = torch.device("cuda" if torch.cuda.is_available() else "cpu")'] == str(device)
    assert torch.arange(4.0, device=device).sum().item() == 6.0


def test_sizes_are_capped():
    assert gpu_ops.sweep_sizes(512) == [64, 128, 256, 512]
    assert gpu_ops.sweep_sizes(10**6)[-1] == gpu_ops.MAX_N
    assert gpu_ops.sweep_sizes(1) == [gpu_ops.MIN_N]
    assert gpu_ops.sweep_sizes(300) == [64, 128, 256, 300]


def test_time_matmul_cpu_is_bounded():
    t = gpu_ops.time_matmul(128, "cpu", budget_s=0.05)
    assert t.device == "cpu" and t.n == 128 and t.seconds > 0 and 1 <= t.repeats <= 1000
    assert t.gflops == pytest.approx(2 * 128**3 / t.seconds / 1e9)


def test_compare_cpu_and_progress():
    calls = []
    timings, skipped = gpu_ops.compare(256, ["cpu"], on_step=lambda f, m: calls.append(f))
    assert [t.n for t in timings] == [64, 128, 256] and not skipped
    assert calls[0] == 0.0 and calls[-1] == 1.0
    assert gpu_ops.speedup(timings, 256) is None  # no GPU timing, no speed-up
    fig = figures.lessons.timing_figure(timings)
    assert [tr.name for tr in fig.data] == ["CPU"] and len(fig.data[0].y) == 3


def test_compare_respects_total_budget():
    timings, skipped = gpu_ops.compare(512, ["cpu"], total_budget_s=0.0)
    assert len(timings) == 1  # the first always runs; the rest are reported as skipped
    assert skipped == ["cpu 128", "cpu 256", "cpu 512"]


def test_compare_two_devices_with_a_fake_gpu(monkeypatch):
    # The GPU branch of compare/speedup/figure, driven without a GPU.
    fake = lambda n, device: gpu_ops.Timing(device, n, 1e-3 if device == "cpu" else 1e-4, 3)
    monkeypatch.setattr(gpu_ops, "time_matmul", fake)
    timings, _ = gpu_ops.compare(128, ["cpu", "cuda"])
    assert [(t.device, t.n) for t in timings] == [("cpu", 64), ("cuda", 64), ("cpu", 128), ("cuda", 128)]
    assert gpu_ops.speedup(timings, 128) == pytest.approx(10.0)
    assert [tr.name for tr in figures.lessons.timing_figure(timings).data] == ["CPU", "CUDA"]


@cuda
def test_time_matmul_on_gpu():
    t = gpu_ops.time_matmul(1024, "cuda")
    assert t.device == "cuda" and t.seconds > 0


@cuda
def test_placement_with_gpu():
    steps = {s.code: s for s in gpu_ops.placement_demo(cuda=True)}
    assert steps["x.cuda().device"].result.startswith("cuda")
    mixed = next(s for s in steps.values() if s.code.startswith("x + x.cuda()"))
    assert not mixed.ok
