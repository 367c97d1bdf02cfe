"""Precision as a run setting: training in fp32, bf16 and (on CUDA) fp16, the config, checkpoint,
command line and export that carry it, and the probe that says whether bf16 is fast here."""

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from playground.core import checkpoint, precision
from playground.core.config import ConfigError, RunConfig
from playground.core.data import load_mnist
from playground.core.engine import StepEvent, Trainer
from playground.export import training_script

SMALL = RunConfig(hidden=(64, 32), dropout=(0.1, 0.1), batch_size=32, epochs=4, lr=3e-3, device="cpu")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def cli(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "playground", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def train(config, data):
    """(step losses, final event, trainer) of a whole run; records the dtype each Linear computed in."""
    trainer = Trainer(config, data)
    computed = set()
    for module in trainer.model.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda m, i, out: computed.add(out.dtype) if m.training else None)
    events = list(trainer)
    trainer.computed_dtypes = computed
    return [e.loss for e in events if isinstance(e, StepEvent)], events[-1], trainer


def falls(losses):
    return sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5


# --- training ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_each_cpu_precision_trains_in_its_dtype_and_keeps_fp32_weights(fake_mnist, name, dtype):
    losses, done, trainer = train(SMALL.replace(precision=name), fake_mnist)
    assert falls(losses) and done.evaluation.accuracy > 0.5
    assert trainer.computed_dtypes == {dtype}  # the layers really ran in that precision
    assert {p.dtype for p in trainer.model.parameters()} == {torch.float32}
    state = [t for s in trainer.optimizer.state.values() for t in s.values() if t.numel() > 1]
    assert state and {t.dtype for t in state} == {torch.float32}


def test_bf16_is_not_fp32_under_another_name(fake_mnist):
    fp32, _, _ = train(SMALL, fake_mnist)
    bf16, _, _ = train(SMALL.replace(precision="bf16"), fake_mnist)
    assert fp32 != bf16
    assert abs(sum(fp32) - sum(bf16)) / sum(fp32) < 0.1  # same network, same data: close


def test_evaluation_runs_in_fp32(fake_mnist):
    _, done, trainer = train(SMALL.replace(precision="bf16", epochs=2), fake_mnist)
    model = trainer.model.eval()
    with torch.no_grad():
        fp32_loss = F.nll_loss(model(fake_mnist.test_x), fake_mnist.test_y).item()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16_loss = F.nll_loss(model(fake_mnist.test_x), fake_mnist.test_y).item()
    assert done.evaluation.loss == pytest.approx(fp32_loss, rel=1e-5)
    assert done.evaluation.loss != pytest.approx(bf16_loss, rel=1e-5)


def test_fp16_on_the_cpu_is_refused_with_the_reason(fake_mnist):
    with pytest.raises(precision.PrecisionUnavailableError, match="fp16 trains on a CUDA GPU only"):
        Trainer(SMALL.replace(precision="fp16"), fake_mnist)
    assert precision.unavailable_reason("fp16", "cpu")
    assert precision.unavailable_reason("bf16", "cpu") is None
    assert precision.unavailable_reason("fp32", "cpu") is None


@needs_cuda
@pytest.mark.parametrize("name", ["bf16", "fp16"])
def test_cuda_mixed_precision_trains(fake_mnist_dir, name):
    if name == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    data = load_mnist(fake_mnist_dir, "cuda", download=False)
    losses, done, trainer = train(SMALL.replace(device="cuda", precision=name), data)
    assert falls(losses) and done.evaluation.accuracy > 0.5
    assert {p.dtype for p in trainer.model.parameters()} == {torch.float32}
    if name == "bf16":
        assert trainer.uses_cuda_graph, trainer.graph_error
    else:  # loss scaling decides on the host: eager, and it says so
        assert not trainer.uses_cuda_graph and "eagerly" in trainer.graph_error
        assert trainer._scaler.get_scale() > 0


def test_cpu_paths_of_the_cuda_branches():
    cpu = torch.device("cpu")
    assert precision.grad_scaler("fp16", cpu) is None and precision.grad_scaler("bf16", cpu) is None
    with precision.autocast("bf16", cpu, cache_enabled=False):
        assert torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with precision.autocast("fp32", cpu):
        assert not torch.is_autocast_enabled("cpu")


# --- config, checkpoint ------------------------------------------------------------------------


def test_precision_in_the_url_round_trips_and_old_urls_mean_fp32():
    config = SMALL.replace(precision="bf16")
    assert config.to_params()["precision"] == "bf16"
    assert RunConfig.from_params(config.to_params()) == config
    old = {k: v for k, v in config.to_params().items() if k != "precision"}
    assert RunConfig.from_params(old).precision == "fp32"


def test_a_bad_precision_is_explained():
    with pytest.raises(ConfigError, match="precision: must be one of fp32, bf16, fp16"):
        RunConfig(precision="fp8")
    config, warnings = RunConfig.from_params_lenient({"precision": "half", "epochs": "3"})
    assert config.precision == "fp32" and config.epochs == 3
    assert warnings == [
        "Ignored URL parameter precision: must be one of fp32, bf16, fp16 (fp16 on a CUDA GPU only); "
        "using the default."
    ]


def test_a_bf16_checkpoint_loads_and_predicts_like_the_trained_model(fake_mnist):
    config = SMALL.replace(precision="bf16", epochs=2)
    _, done, trainer = train(config, fake_mnist)
    model, loaded_config, _ = checkpoint.load(checkpoint.to_bytes(trainer.model, config))
    assert loaded_config.precision == "bf16"
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    with torch.no_grad():
        predictions = model(fake_mnist.test_x).argmax(1)
    assert torch.equal(predictions, done.evaluation.predictions)


# --- the bf16 speed probe ----------------------------------------------------------------------


def test_the_probe_times_both_precisions_once_per_process(monkeypatch):
    monkeypatch.setattr(precision, "_probe", None)
    calls = []
    real = precision._step_ms
    monkeypatch.setattr(precision, "_step_ms", lambda name: calls.append(name) or real(name))
    first = precision.bf16_speed()
    assert precision.bf16_speed() is first and calls == ["fp32", "bf16"]
    assert first.fp32_ms > 0 and first.bf16_ms > 0
    assert first.speedup == first.fp32_ms / first.bf16_ms


def test_slow_warning_says_why_and_by_how_much(monkeypatch):
    monkeypatch.setattr(precision, "_probe", precision.SpeedProbe(10.0, 25.0, native_bf16=False))
    warning = precision.slow_warning("bf16", "cpu")
    assert warning.startswith("bf16 will be slow on this CPU: no native bfloat16")
    assert "25.0 ms in bf16 against 10.0 ms in fp32 (0.40× the speed)" in warning
    assert precision.slow_warning("fp32", "cpu") is None and precision.slow_warning("bf16", "cuda") is None
    monkeypatch.setattr(precision, "_probe", precision.SpeedProbe(10.0, 7.0, native_bf16=True))
    assert precision.slow_warning("bf16", "cpu") is None


def test_cpu_flags_explain_native_bf16(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16\n")
    assert precision.cpu_has_native_bf16(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert not precision.cpu_has_native_bf16(info)
    assert not precision.cpu_has_native_bf16(tmp_path / "missing")


# --- command line and export -------------------------------------------------------------------


def test_cli_trains_in_bf16_and_saves_it_in_the_checkpoint(fake_mnist_dir, tmp_path):
    out = tmp_path / "model.pt"
    result = cli(
        "train", "--data-dir", fake_mnist_dir, "--hidden", 32, "--epochs", 2, "--batch-size", 32,
        "--device", "cpu", "--precision", "bf16", "--out", out, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["config"]["precision"] == "bf16"
    assert checkpoint.load(out)[1].precision == "bf16"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--precision", "fp8"], "argument --precision: invalid choice: 'fp8'"),
        (["--precision", "fp16", "--device", "cpu"], "fp16 trains on a CUDA GPU only"),
    ],
)
def test_cli_bad_precision_is_explained(fake_mnist_dir, args, message, cli_here):
    result = cli_here("train", "--data-dir", fake_mnist_dir, "--epochs", 1, *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_times_the_engine_in_each_precision(fake_mnist_dir):
    result = cli(
        "bench", "--data-dir", fake_mnist_dir, "--epochs", 1, "--device", "cpu",
        "--precision", "fp32", "bf16", "--repeats", 2, "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["engine"]) == {"fp32", "bf16"} and report["repeats"] == 2
    for name, loop in report["engine"].items():
        assert len(loop["epoch_seconds"]) == 2 and 0 <= loop["test_accuracy"] <= 1
        assert report["ratio"][name] == report["tutorial"]["seconds_per_epoch"] / loop["seconds_per_epoch"]
    assert result.stderr.count("engine bf16    epoch 1/1") == 2


def test_bench_refuses_fp16_on_the_cpu_before_training(fake_mnist_dir, cli_here):
    result = cli_here("bench", "--data-dir", fake_mnist_dir, "--device", "cpu", "--precision", "fp16")
    assert result.returncode == 2 and "fp16 trains on a CUDA GPU only" in result.stderr
    assert "tutorial loop" not in result.stdout


def test_exported_script_trains_in_bf16(fake_mnist_dir, tmp_path):
    script = tmp_path / "train_bf16.py"
    text = training_script(SMALL.replace(precision="bf16", epochs=2))
    assert "PRECISION = 'bf16'" in text
    script.write_text(text)
    result = subprocess.run(
        [sys.executable, str(script), "--data-dir", str(fake_mnist_dir), "--device", "cpu"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    last = [line for line in result.stdout.splitlines() if line.startswith("epoch 2/2")][0]
    assert float(last.split("test accuracy ")[1].split("%")[0]) > 50


def test_exported_fp16_script_refuses_the_cpu(fake_mnist_dir, tmp_path):
    script = tmp_path / "train_fp16.py"
    script.write_text(training_script(SMALL.replace(precision="fp16")))
    result = subprocess.run(
        [sys.executable, str(script), "--data-dir", str(fake_mnist_dir), "--device", "cpu"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and "fp16 trains on a CUDA GPU only" in result.stderr


# --- the faster CPU dropout (one 64-bit draw for four units) ------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.9])
def test_cpu_dropout_keeps_each_unit_with_probability_1_minus_p(dtype, p):
    from playground.core.model import Dropout

    torch.manual_seed(0)
    out = Dropout(p).train()(torch.ones(1000, 1000, dtype=dtype))
    kept = out != 0
    assert kept.float().mean().item() == pytest.approx(1 - p, abs=0.002)  # 10⁶ units: σ ≤ 0.0005
    assert out.dtype == dtype and torch.all(out[kept] == torch.tensor(1 / (1 - p), dtype=dtype))
    columns, rows = kept.float().mean(0), kept.float().mean(1)  # no stripes: every unit alike
    assert (columns - (1 - p)).abs().max() < 0.07 and (rows - (1 - p)).abs().max() < 0.07
    torch.manual_seed(0)
    assert torch.equal(Dropout(p).train()(torch.ones(1000, 1000, dtype=dtype)), out)  # seeded
    assert torch.equal(Dropout(p).eval()(out), out)
