"""The configured model and training loop as one standalone .py file (torch + torchvision only)."""

from __future__ import annotations

import inspect

from playground.core import augment, schedule
from playground.core.config import RunConfig
from playground.core.data import MEAN, STD
from playground.core.model import activation_name

_TEMPLATE = '''\
"""MNIST MLP exported from PyTorch Playground: {summary}.

Needs only torch and torchvision:  python {filename} [--data-dir ./data] [--epochs N] [--device cpu|cuda]
MNIST is downloaded into --data-dir on first use.
"""

import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets

HIDDEN = {hidden!r}
DROPOUT = {dropout!r}
BATCHNORM = {batchnorm!r}
ACTIVATION = nn.{activation_class}
OPTIMIZER = {optimizer!r}
LR = {lr!r}
SCHEDULE = {schedule!r}  # see lr_at below
BATCH_SIZE = {batch_size!r}
EPOCHS = {epochs!r}
SEED = {seed!r}
PRECISION = {precision!r}  # "fp32", or "bf16"/"fp16": autocast, the weights stay float32
AUGMENT = {augment!r}  # data augmentation's strength: 0 is off (the tutorial), 1 the strongest
MEAN, STD = {mean!r}, {std!r}


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        blocks, width = [], 28 * 28
        for units, rate in zip(HIDDEN, DROPOUT):
            layers = [nn.Linear(width, units)] + ([nn.BatchNorm1d(units)] if BATCHNORM else [])
            blocks.append(nn.Sequential(*layers, ACTIVATION(), nn.Dropout(rate)))
            width = units
        self.hidden = nn.ModuleList(blocks)
        self.output = nn.Linear(width, 10)

    def forward(self, x):  # (B, 784) normalised pixels -> (B, 10) log-probabilities
        for block in self.hidden:
            x = block(x)
        return F.log_softmax(self.output(x), dim=1)


def load(root, train, device):
    """The whole split as tensors on the device, normalised once (no per-sample transforms)."""
    mnist = datasets.MNIST(root, train=train, download=True)
    x = (mnist.data.reshape(len(mnist.data), -1).float() / 255 - MEAN) / STD
    return x.to(device), mnist.targets.to(device)


def make_optimizer(model):
    if OPTIMIZER == "sgd":
        return torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    cls = torch.optim.Adam if OPTIMIZER == "adam" else torch.optim.AdamW
    return cls(model.parameters(), lr=LR)


{schedule_source}


def autocast(device):
    """The forward pass and loss run in bf16/fp16 under autocast; fp32 runs as it is."""
    dtype = {{"bf16": torch.bfloat16, "fp16": torch.float16}}.get(PRECISION)
    return torch.autocast(device.type, dtype=dtype, enabled=dtype is not None)


# --- data augmentation: each batch redrawn at random on the device (0 = off) ---

{augment_source}

@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    log_probs = torch.cat([model(x[i:i + 8192]) for i in range(0, len(x), 8192)])
    model.train()
    return F.nll_loss(log_probs, y).item(), (log_probs.argmax(1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default="./data")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default="mnist_mlp.pt")
    args = parser.parse_args()

    torch.manual_seed(SEED)
    device = torch.device(args.device)
    train_x, train_y = load(args.data_dir, True, device)
    test_x, test_y = load(args.data_dir, False, device)
    if PRECISION == "fp16" and device.type != "cuda":
        raise SystemExit("PRECISION fp16 trains on a CUDA GPU only; on the CPU use bf16")
    model = MLP().to(device)
    optimizer = make_optimizer(model)
    # fp16 scales the loss so that small gradients do not underflow; a no-op otherwise.
    scaler = torch.amp.GradScaler(device.type, enabled=PRECISION == "fp16")
    augment_generator = make_generator(SEED, device)
    n = len(train_x)
    epoch_steps = steps_per_epoch(n, BATCH_SIZE)
    total, step = epoch_steps * args.epochs, 0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(n, device=device)
        loss_sum = torch.zeros((), device=device)  # summed on the device: no sync per step
        for i in range(epoch_steps):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total, LR, SCHEDULE)
            idx = order[i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
            optimizer.zero_grad(set_to_none=True)
            x = augment_batch(train_x[idx], AUGMENT, augment_generator)
            with autocast(device):
                loss = F.nll_loss(model(x), train_y[idx])
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.detach()
            step += 1
        test_loss, accuracy = evaluate(model, test_x, test_y)
        print(f"epoch {{epoch}}/{{args.epochs}}  train loss {{loss_sum.item() / epoch_steps:.4f}}  "
              f"test loss {{test_loss:.4f}}  test accuracy {{accuracy:.2%}}  "
              f"{{time.perf_counter() - start:.1f}} s")
    torch.save(model.state_dict(), args.out)
    print(f"saved {{args.out}}")


if __name__ == "__main__":
    main()
'''

# The engine's own schedule and epoch length, copied word for word (see core/schedule.py).
SCHEDULE_SOURCE = inspect.getsource(schedule.lr_at) + "\n\n" + inspect.getsource(schedule.steps_per_epoch)
# And the engine's augmentation: core/augment.py from its constants on, word for word.
_AUGMENT_MODULE = inspect.getsource(augment)
AUGMENT_SOURCE = _AUGMENT_MODULE[_AUGMENT_MODULE.index("MNIST_MEAN, MNIST_STD") :]


def summary(config: RunConfig) -> str:
    """One line describing a config, e.g. '784 → 548 → 252 → 10, BatchNorm, ReLU, Adam lr 0.001'."""
    layers = " → ".join(str(n) for n in (784, *config.hidden, 10))
    bn = ", BatchNorm" if config.batchnorm else ""
    return (
        f"{layers}{bn}, {activation_name(config.activation)}, "
        f"dropout {'/'.join(f'{d:g}' for d in config.dropout)}, "
        f"{config.optimizer} lr {config.lr:g} ({config.schedule}), batch {config.batch_size}, "
        f"{config.epochs} epochs, seed {config.seed}"
        + ("" if config.precision == "fp32" else f", {config.precision}")
        + (f", augmentation {config.augment:g}" if config.augment > 0 else "")
    )


def training_script(config: RunConfig, filename: str = "train_mnist.py") -> str:
    return _TEMPLATE.format(
        summary=summary(config),
        filename=filename,
        hidden=config.hidden,
        dropout=config.dropout,
        batchnorm=config.batchnorm,
        activation_class=activation_name(config.activation),
        optimizer=config.optimizer,
        lr=config.lr,
        schedule=config.schedule,
        batch_size=config.batch_size,
        epochs=config.epochs,
        seed=config.seed,
        precision=config.precision,
        augment=config.augment,
        mean=MEAN,
        std=STD,
        schedule_source=SCHEDULE_SOURCE.rstrip(),
        augment_source=AUGMENT_SOURCE.rstrip(),
    )
