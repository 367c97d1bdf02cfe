"""Where a drawing lands among the test digits: the test split laid out on a plane, as the network
sees it and as pixels (the views of `alike`), along the two directions in which its digits differ
most (principal components). A network that has learned the digits pulls them apart into groups;
as pixels they stay one cloud. `separation` puts a number on it: the spread between the digits'
centres over the spread within a digit, on the plane.

The plane is found from all 10,000 test digits, once per view (an eigendecomposition of the
(units × units) scatter matrix: deterministic, and the same map each time)."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
import torch

from playground.core.model import MLP
from playground.digits import alike

POINTS = 1500  # test digits drawn on a map: enough to see the groups, light to send


@dataclass(frozen=True)
class DigitMap:
    xy: np.ndarray  # (POINTS, 2) where the first test digits land
    labels: np.ndarray  # (POINTS,) their digits
    drawing: tuple[float, float]  # where the drawing lands
    separation: float  # spread between digits' centres / spread within a digit, all test digits
    dimensions: int  # the numbers each digit is in this view (units, or 784 pixels): shown in 2


@dataclass(frozen=True)
class Plane:
    mean: torch.Tensor  # (d,)
    axes: torch.Tensor  # (d, 2): the two directions of largest spread, unit length
    separation: float


def digit_maps(
    model: MLP, model_input: torch.Tensor, images: torch.Tensor, labels: torch.Tensor, points: int = POINTS
) -> tuple[DigitMap, DigitMap]:
    """The test digits and the drawing ((784,) normalised) on the network's plane and on the
    pixels' plane."""
    as_network, as_pixels = alike.drawing_rows(model, model_input)
    views = ((alike.network_view(model, images), as_network), (alike.pixel_view(images), as_pixels))
    maps = []
    for rows, drawing in views:
        plane = plane_of(rows, labels)
        xy = project(rows[:points], plane).numpy()
        x, y = project(drawing, plane)[0].tolist()
        maps.append(DigitMap(xy, labels[:points].numpy(), (x, y), plane.separation, rows.shape[1]))
    return maps[0], maps[1]


def project(rows: torch.Tensor, plane: Plane) -> torch.Tensor:
    """(N, d) rows → (N, 2) places on the plane."""
    return (rows - plane.mean) @ plane.axes


def find_plane(rows: torch.Tensor, labels: torch.Tensor) -> Plane:
    """The principal plane of (N, d) rows, and how far apart it sets the labels' groups."""
    mean = rows.mean(dim=0)
    centred = rows - mean
    _, vectors = torch.linalg.eigh(centred.T @ centred)  # eigenvalues ascending
    axes = vectors[:, [-1, -2]]
    # An eigenvector's sign is arbitrary: make each axis's largest entry positive.
    axes = axes * torch.sign(axes.gather(0, axes.abs().argmax(dim=0, keepdim=True)))
    return Plane(mean, axes, separation(centred @ axes, labels))


def separation(xy: torch.Tensor, labels: torch.Tensor) -> float:
    """Between-group over within-group sum of squares of (N, 2) places grouped by label."""
    between = within = 0.0
    for digit in labels.unique():
        group = xy[labels == digit]
        centre = group.mean(dim=0)
        between += len(group) * float(((centre - xy.mean(dim=0)) ** 2).sum())
        within += float(((group - centre) ** 2).sum())
    return between / max(within, 1e-12)


# One plane per view, found once: keyed by the view tensor itself (weakly: it goes with the view).
_planes: dict[int, tuple[weakref.ref, Plane]] = {}
_planes_lock = threading.Lock()


def plane_of(rows: torch.Tensor, labels: torch.Tensor) -> Plane:
    with _planes_lock:
        kept = _planes.get(id(rows))
        if kept is not None and kept[0]() is rows:
            return kept[1]
        for key in [key for key, (ref, _) in _planes.items() if ref() is None]:
            del _planes[key]
        plane = find_plane(rows, labels)
        _planes[id(rows)] = (weakref.ref(rows), plane)
        return plane
