"""Data augmentation: each training batch redrawn at random, on the training device.

    x = augment_batch(x, strength, generator)   # (B, 784) normalised → (B, 784) normalised

Three kinds, all vectorised over the batch (no per-sample Python, no DataLoader), from the
resident tensors:

- stroke-width jitter: each digit's strokes made thinner (towards a 3×3 neighbourhood minimum) or
  thicker (one or two 3×3 neighbourhood maxima), blended by a random per-sample amount, because
  visitors draw with pens of many widths and an MNIST-trained network has only seen MNIST's;
- random affine: rotation, scale, shear and a shift of a few pixels;
- elastic distortion (Simard, Steinkraus & Platt 2003): a smooth random displacement field. Simard
  smooths per-pixel noise with a Gaussian (σ = 4 px); here coarse 5×5 noise upsampled bicubically
  gives a field as smooth for a fraction of the cost.

The affine map and the elastic field are added into one sampling grid: one `grid_sample` per
batch. Every op is capturable in a CUDA graph: random numbers come from `generator` on the batch's
device, and nothing reads a value back to the host. `strength` 0 returns the batch unchanged;
1 is the strongest setting (see the constants).

This module's functions are copied word for word into the exported training script
(`playground/export.py`), so they use torch alone.
"""

import math

import torch
import torch.nn.functional as F

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # must equal core/data.py's (a test checks it)
SIDE = 28
# The largest change of each kind, at strength 1 (scaled linearly below it).
MAX_ROTATION_DEG = 15.0
MAX_SCALE = 0.15  # ±15% size
MAX_SHEAR = 0.3  # tan of the shear angle
MAX_SHIFT_PX = 2.5
MAX_ELASTIC_PX = 1.2  # standard deviation of the elastic displacement
MAX_THICKEN = 2.0  # up to two 3×3 dilations: a stroke up to 4 px wider (three cost MNIST accuracy: 98.89%)
MAX_THIN = 0.6  # at most 60% of the way to a 3×3 erosion: MNIST's thin strokes would vanish
ELASTIC_GRID = 5  # the coarse noise's side: points 6.75 px apart, as smooth as Simard's σ = 4 field


def augment_batch(x, strength, generator):
    """(B, 784) normalised MNIST digits → the same digits, randomly redrawn."""
    if strength <= 0:
        return x
    batch = x.shape[0]
    ink = (x * MNIST_STD).add_(MNIST_MEAN).reshape(batch, 1, SIDE, SIDE)
    ink = jitter_strokes(ink, strength, generator)
    grid = affine_grid(batch, strength, generator, x.device)
    grid += elastic_field(batch, strength, generator, x.device)
    ink = F.grid_sample(
        ink, grid.permute(0, 2, 3, 1), mode="bilinear", padding_mode="zeros", align_corners=False
    )
    # Peak ink back to 1, as the Draw page's preprocessing does: thinned strokes stay thin, not
    # dim. Division by the peak and normalisation in one pass over the batch.
    scale = 1 / (ink.amax(dim=(2, 3), keepdim=True).clamp_min(1e-3) * MNIST_STD)
    return (ink * scale).sub_(MNIST_MEAN / MNIST_STD).reshape(batch, -1).to(x.dtype)


def uniform(shape, low, high, generator, device):
    """Uniform random numbers in [low, high) from `generator` (on its device: capturable)."""
    return torch.rand(shape, generator=generator, device=device) * (high - low) + low


def jitter_strokes(ink, strength, generator):
    """(B, 1, 28, 28) ink 0..1 → strokes thinned or thickened by a random amount per digit."""
    amount = uniform((ink.shape[0], 1, 1, 1), -MAX_THIN, MAX_THICKEN, generator, ink.device) * strength
    # amount −1..0 blends towards a thinner stroke; 0..1 and 1..2 add one more dilation each.
    out = torch.addcmul(ink, (-amount).clamp(0, 1), neighbourhood(ink, torch.minimum) - ink)
    thinner = ink
    for level in range(int(MAX_THICKEN)):
        thicker = neighbourhood(thinner, torch.maximum)
        out.addcmul_((amount - level).clamp(0, 1), thicker - thinner)
        thinner = thicker
    return out


def neighbourhood(image, pick):
    """The 3×3 neighbourhood maximum (a dilation) or minimum (an erosion) of (B, 1, H, W) images,
    `pick` being torch.maximum or torch.minimum, as two 1-D passes of shifted images: several
    times faster than max_pool2d on the CPU for one channel."""
    padded = F.pad(image, (1, 1, 1, 1))
    rows = pick(pick(padded[..., :-2, :], padded[..., 1:-1, :]), padded[..., 2:, :])
    return pick(pick(rows[..., :-2], rows[..., 1:-1]), rows[..., 2:])


def affine_grid(batch, strength, generator, device):
    """(B, 2, 28, 28): for each output pixel, the (x, y) it is read from, in grid units (the image
    spans -1..1), under a random rotation, scale, shear and shift per digit. Written out with
    broadcasting: F.affine_grid costs several times more on the CPU."""
    angle, scale, shear, shift_x, shift_y = uniform((5, batch, 1, 1), -strength, strength, generator, device)
    angle = angle * (MAX_ROTATION_DEG * math.pi / 180)
    scale = 1 + scale * MAX_SCALE
    shear = shear * MAX_SHEAR
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    centres = torch.linspace(-1 + 1 / SIDE, 1 - 1 / SIDE, SIDE, device=device)  # a pixel: 2/28
    x, y = centres.reshape(1, 1, SIDE), centres.reshape(1, SIDE, 1)
    # (rotation · shear / scale) · (x, y) + shift; the row and column terms are summed last, so
    # that only that sum has the batch's full size.
    shift = MAX_SHIFT_PX * 2 / SIDE
    read_x = (cos * x + shift_x * shift) + (cos * shear - sin) * y
    read_y = (sin * x + shift_y * shift) + (sin * shear + cos) * y
    return torch.stack([read_x, read_y], dim=1)


def elastic_field(batch, strength, generator, device):
    """(B, 2, 28, 28) smooth random displacement, in grid units, Simard-style: coarse noise
    upsampled bicubically, as two small matrix products (F.interpolate is slower on the CPU)."""
    noise = torch.randn((batch, 2, ELASTIC_GRID, ELASTIC_GRID), generator=generator, device=device)
    basis = torch.eye(ELASTIC_GRID, device=device).reshape(ELASTIC_GRID, 1, 1, ELASTIC_GRID)
    # Row k: how much coarse point k weighs at each of the 28 fine points (bicubic, 1-D).
    upsample = F.interpolate(basis, size=(1, SIDE), mode="bicubic", align_corners=True)
    upsample = upsample.reshape(ELASTIC_GRID, SIDE)
    return upsample.t() @ (noise * (MAX_ELASTIC_PX * strength * 2 / SIDE)) @ upsample


def make_generator(seed, device):
    """The augmentation's own random stream: seed + 1, so that the weights' stream (seed) and
    this one never coincide, and the same seed gives the same run."""
    return torch.Generator(device=device).manual_seed(seed + 1)
