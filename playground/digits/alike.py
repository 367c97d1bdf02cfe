"""The MNIST test digits most like a drawing, found two ways: as the network sees them (nearest by
the response of its last hidden layer) and as pixels (nearest 28×28 input). What a network has
learned shows in what it treats as alike: pixel neighbours share ink in the same places, and may
be other digits drawn in a similar spot; the network's neighbours share the digit, whatever the
pen did.

"Nearest" is the cosine similarity: 1 when two vectors point the same way, whatever their length
(a thick and a thin stroke of one shape are close). The network's view of the 10,000 test digits
is computed once per model (a forward pass of the test split) and kept for the latest models
asked about, within a memory budget: 10 MB for the tutorial's 252 units, 41 MB for the widest
layer a run may have (1024)."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground.core.data import MEAN, STD, normalize
from playground.core.model import MLP

SHOWN = 6  # digits per list: one row on a phone
KEPT_MODELS = 6  # models whose view of the test split is kept (the latest ones asked about)…
KEPT_BYTES = 64 * 2**20  # …within this much memory (the latest one is always kept)


@dataclass(frozen=True)
class Alike:
    index: int  # in the MNIST test split
    label: int
    similarity: float  # cosine similarity to the drawing: 1 = pointing the same way


@dataclass(frozen=True)
class MostAlike:
    by_network: list[Alike]  # nearest by the last hidden layer's response
    by_pixels: list[Alike]  # nearest by the 28×28 input


def last_hidden(model: MLP, inputs: torch.Tensor) -> torch.Tensor:
    """(N, 784) normalised inputs → (N, units) float32 on the CPU: the last hidden layer's
    response after its activation (the model's own `activations`; the Draw page's models are in
    eval mode, as `predict` needs them, and stay as they are: other sessions may share one)."""
    weight = next(model.parameters())
    chunks = [
        model.activations(chunk.to(weight.device, weight.dtype))[-1].float().cpu()
        for chunk in inputs.split(2048)  # bounded memory for the widest networks
    ]
    return torch.cat(chunks)


def most_alike(
    model: MLP, model_input: torch.Tensor, images: torch.Tensor, labels: torch.Tensor, shown: int = SHOWN
) -> MostAlike:
    """The `shown` test digits nearest to `model_input` ((784,) normalised, as the Draw page's
    preprocessing makes it), by the network and by pixels. `images`: (N, 28, 28) uint8."""
    as_network, as_pixels = drawing_rows(model, model_input)
    by_network = _nearest(as_network, network_view(model, images), labels, shown)
    by_pixels = _nearest(as_pixels, pixel_view(images), labels, shown)
    return MostAlike(by_network, by_pixels)


def drawing_rows(model: MLP, model_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The drawing as the two views see it: (1, units) and (1, 784), unit length."""
    drawing = model_input.reshape(1, -1).float()
    ink = (drawing * STD + MEAN).clamp(0, 1)  # pixels compared as ink (0 = none), not shifted
    return _unit(last_hidden(model, drawing)), _unit(ink)


def _unit(rows: torch.Tensor) -> torch.Tensor:
    return F.normalize(rows, dim=1)


def _nearest(query: torch.Tensor, candidates: torch.Tensor, labels: torch.Tensor, shown: int) -> list[Alike]:
    similarity = candidates @ query[0]
    top = similarity.topk(min(shown, len(similarity)))
    return [
        Alike(int(i), int(labels[i]), float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())
    ]


# The test split as each recent model sees it, unit length. Keyed by the model object (weakly:
# a run deleted or a session gone frees its entry) and checked against the images it was made
# from; the lock makes one visitor's first question per model the only computation of it.
_views: OrderedDict[int, tuple[weakref.ref, torch.Tensor, torch.Tensor]] = OrderedDict()
_views_lock = threading.Lock()
_pixels: tuple[torch.Tensor, torch.Tensor] | None = None  # (images, their ink rows, unit length)


def pixel_view(images: torch.Tensor) -> torch.Tensor:
    """(N, 784) unit-length ink rows of `images` ((N, 28, 28) uint8), kept for the latest images."""
    global _pixels
    with _views_lock:
        if _pixels is None or _pixels[0] is not images:
            _pixels = (images, _unit(images.reshape(len(images), -1).float() / 255.0))
        return _pixels[1]


def network_view(model: MLP, images: torch.Tensor) -> torch.Tensor:
    """(N, units) unit-length rows: `images` as `model`'s last hidden layer responds to them."""
    with _views_lock:
        kept = _views.get(id(model))
        if kept is not None and kept[0]() is model and kept[1] is images:
            _views.move_to_end(id(model))
            return kept[2]
        view = _unit(last_hidden(model, normalize(images).reshape(len(images), -1)))
        for key in [key for key, (ref, _, _) in _views.items() if ref() is None]:
            del _views[key]  # models gone: their runs deleted, their sessions ended
        _views[id(model)] = (weakref.ref(model), images, view)
        while len(_views) > 1 and (len(_views) > KEPT_MODELS or _kept_bytes() > KEPT_BYTES):
            _views.popitem(last=False)  # the least recently asked about
        return view


def _kept_bytes() -> int:
    return sum(view.numel() * view.element_size() for _, _, view in _views.values())
