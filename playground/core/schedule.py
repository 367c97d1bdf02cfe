"""The learning-rate schedule and the steps of an epoch: plain Python, shared word for word by the
engine and the exported training script (export.py copies these functions' source), so the two
can never drift apart."""

import math


def lr_at(step, total_steps, lr, schedule):
    """The learning rate of step `step` (0-based) of `total_steps`. "constant": lr throughout.
    "onecycle": linear warm-up from lr/25 over the first 25% of steps, then cosine down to lr/1000."""
    if schedule == "constant":
        return lr
    warmup = max(1, int(0.25 * total_steps))
    start, final = lr / 25, lr / 1000
    if step < warmup:
        return start + (lr - start) * step / warmup
    progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
    return final + (lr - final) * 0.5 * (1 + math.cos(math.pi * progress))


def steps_per_epoch(samples, batch_size):
    """Batches in one pass over `samples`. A trailing batch of one sample is dropped: BatchNorm
    cannot train on a single sample."""
    return samples // batch_size + (1 if samples % batch_size > 1 else 0)
