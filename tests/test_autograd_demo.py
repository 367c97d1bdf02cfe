"""The walkthrough's numbers come from autograd and match the hand-derived gradient."""

import pytest
import torch

from playground import figures
from playground.lessons import autograd


def flat(m: list[list[float]]) -> list[float]:
    return [v for row in m for v in row]


def test_tutorial_gradient_is_4_5_at_one():
    w = autograd.walkthrough(1.0)
    assert w.grad == [[4.5, 4.5], [4.5, 4.5]]
    assert w.analytic == w.grad
    assert [s.name for s in w.steps] == ["x", "y", "z", "out"]
    assert [s.grad_fn for s in w.steps] == [None, "AddBackward0", "MulBackward0", "MeanBackward0"]
    assert w.steps[0].is_leaf and not w.steps[1].is_leaf
    assert w.steps[3].values == 27.0  # 3·(1+2)²


@pytest.mark.parametrize("x", [-4.0, 0.0, 2.5])
def test_gradient_changes_with_x(x):
    w = autograd.walkthrough(x)
    assert w.grad[0][0] == pytest.approx(1.5 * (x + 2))
    assert flat(w.grad) == pytest.approx(flat(w.analytic))


def test_per_element_x():
    w = autograd.walkthrough([[1.0, 2.0], [3.0, -2.0]])
    assert flat(w.grad) == pytest.approx([4.5, 6.0, 7.5, 0.0])


def test_graph_is_walked_from_the_real_autograd_graph():
    g = autograd.walkthrough(1.0).graph
    labels = list(g.nodes.values())
    assert labels[0] == "MeanBackward0 (out)"
    assert labels.count("MulBackward0 (z)") == 1 and "MulBackward0" in labels
    assert "AddBackward0 (y)" in labels
    assert any(label.startswith("AccumulateGrad → x.grad (2, 2)") for label in labels)
    # y * y reaches AddBackward0 twice; the constants 2 and 3 add no nodes
    add = next(i for i, label in g.nodes.items() if label.startswith("AddBackward0"))
    assert sum(1 for _, b in g.edges if b == add) == 2
    assert len(g.nodes) == 5
    dot = autograd.graph_dot(g)
    assert dot.startswith("digraph") and "MeanBackward0" in dot and dot.count("->") == len(g.edges)


def test_graph_walk_on_any_tensor():
    a = torch.ones(3, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    g = autograd.grad_graph((a * b).sum(), {id(a): "a", id(b): "b"})
    assert sorted(g.nodes.values()) == sorted(
        ["SumBackward0", "MulBackward0", "AccumulateGrad → a.grad (3,)", "AccumulateGrad → b.grad (3,)"]
    )
    assert autograd.grad_graph(torch.ones(2)).nodes == {}  # no grad_fn, no graph


def test_then_and_now_is_run_on_this_torch():
    rows = autograd.then_and_now()
    assert "torch.Tensor" in rows[0].today_says  # Variable returns a plain tensor now
    assert "False" in rows[1].today_says  # no .creator
    assert "IndexError" in rows[2].today_says and "loss.item() = 8.0" in rows[2].today_says


@pytest.mark.parametrize("name", list(autograd.EXAMPLES))
@pytest.mark.parametrize("reduction", list(autograd.REDUCTIONS))
def test_examples_match_their_hand_derivatives(name, reduction):
    r = autograd.run_example(name, reduction, -3.0, 3.0, 25)
    assert r.max_abs_diff < 1e-9
    assert len(r.x) == len(r.grad) == 25


def test_reductions_scale_the_gradient():
    s = autograd.run_example("x³", "sum", -1.0, 2.0, 4)
    m = autograd.run_example("x³", "mean", -1.0, 2.0, 4)
    assert m.grad == pytest.approx([g / 4 for g in s.grad])
    mx = autograd.run_example("x³", "max", -1.0, 2.0, 4)
    assert mx.grad == pytest.approx([0.0, 0.0, 0.0, 12.0])  # only the largest x³ gets 3x²
    assert (s.grad_fn, m.grad_fn) == ("SumBackward0", "MeanBackward0")
    assert figures.lessons.example_figure(s, "x³", "sum").data[1].y == tuple(s.grad)
