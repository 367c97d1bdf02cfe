"""The tutorial's autograd example computed live, the grad_fn graph walked from the real autograd
graph, a "then and now" of the 2017 API, and one-variable examples to play with."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Step:
    code: str  # the line of today's PyTorch that makes this tensor
    name: str
    values: list  # the tensor as nested Python lists (or a number for 0-d tensors)
    grad_fn: str | None  # e.g. "AddBackward0"; None for leaves
    requires_grad: bool
    is_leaf: bool


@dataclass(frozen=True)
class Walkthrough:
    steps: list[Step]
    grad: list[list[float]]  # x.grad after out.backward()
    analytic: list[list[float]]  # 3/2 · (x + 2), the gradient worked out by hand
    graph: Graph  # the grad_fn graph behind `out`


def _step(code: str, name: str, t: torch.Tensor) -> Step:
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    return Step(code, name, t.detach().tolist(), grad_fn, t.requires_grad, t.is_leaf)


def as_matrix(x: float | list[list[float]]) -> list[list[float]]:
    """A single number fills the tutorial's 2×2; a 2×2 list is used as it is (per-element x)."""
    if isinstance(x, (int, float)):
        return [[float(x)] * 2 for _ in range(2)]
    return [[float(v) for v in row] for row in x]


def walkthrough(x_value: float | list[list[float]] = 1.0) -> Walkthrough:
    """The tutorial's example, step by step: y = x + 2, z = 3·y², out = mean(z), backward."""
    x = torch.tensor(as_matrix(x_value), requires_grad=True)
    y = x + 2
    z = y * y * 3  # written as in the tutorial, so the graph shows both multiplications
    out = z.mean()
    out.backward()
    steps = [
        _step("x = torch.tensor(..., requires_grad=True)", "x", x),
        _step("y = x + 2", "y", y),
        _step("z = y * y * 3", "z", z),
        _step("out = z.mean()", "out", out),
    ]
    # d(out)/dx_i = (1/4)·6·(x_i + 2) for the 4 elements of the 2×2: 3/2 · (x + 2)
    analytic = (1.5 * (x.detach() + 2)).tolist()
    names = {id(x): "x", id(y.grad_fn): "y", id(z.grad_fn): "z", id(out.grad_fn): "out"}
    return Walkthrough(steps, x.grad.tolist(), analytic, grad_graph(out, names))


# --- the graph of grad_fn nodes ---------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    nodes: dict[int, str]  # node id → label ("MulBackward0", "AccumulateGrad (x)")
    edges: list[tuple[int, int]]  # (node, one of its next_functions): the way backward walks


def grad_graph(t: torch.Tensor, names: dict[int, str] | None = None) -> Graph:
    """Walk `t.grad_fn.next_functions` to the leaves. `names` maps id(leaf tensor) or
    id(grad_fn) to the name the page uses, so nodes read "MulBackward0 (z)", "… → x.grad"."""
    names = names or {}
    nodes: dict[int, str] = {}
    edges: list[tuple[int, int]] = []
    stack = [t.grad_fn] if t.grad_fn is not None else []
    while stack:
        fn = stack.pop()
        if id(fn) in nodes:
            continue
        nodes[id(fn)] = _label(fn, names)
        for nxt, _ in fn.next_functions:
            if nxt is None:  # an input that needs no gradient, e.g. the constant 3
                continue
            edges.append((id(fn), id(nxt)))
            stack.append(nxt)
    # Renumber 0, 1, 2, ... in walk order: ids of Python objects mean nothing once they're gone.
    order = {old: i for i, old in enumerate(nodes)}
    return Graph({order[k]: v for k, v in nodes.items()}, [(order[a], order[b]) for a, b in edges])


def _label(fn, names: dict[int, str]) -> str:
    label = type(fn).__name__
    if id(fn) in names:
        label += f" ({names[id(fn)]})"
    var = getattr(fn, "variable", None)  # AccumulateGrad holds the leaf it accumulates into
    if var is not None:
        label += f" → {names.get(id(var), 'leaf')}.grad {tuple(var.shape)}"
    return label


def graph_dot(graph: Graph, title: str = "") -> str:
    """DOT text for st.graphviz_chart (rendered in the browser; no graphviz package needed)."""
    lines = [
        "digraph G {",
        '  rankdir=TB; bgcolor="transparent";',
        '  node [shape=box, style="rounded,filled", fillcolor="#fde9e4", color="#ee4c2c", '
        'fontname="Helvetica", fontsize=12];',
        '  edge [color="#555555"];',
    ]
    if title:
        lines.append(f'  label="{title}"; labelloc=t; fontname="Helvetica";')
    for node_id, label in graph.nodes.items():
        fill = ', fillcolor="#e4f0fd", color="#2c6cee"' if label.startswith("AccumulateGrad") else ""
        lines.append(f'  n{node_id} [label="{label}"{fill}];')
    for a, b in graph.edges:
        lines.append(f"  n{a} -> n{b};")
    lines.append("}")
    return "\n".join(lines)


# --- then and now -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ThenNow:
    then: str  # 2017 code
    now: str  # today's code
    today_says: str  # what running the old idiom on this torch gives


def then_and_now() -> list[ThenNow]:
    """The 2017 idioms, each tried on this torch so the 'today' column is not hearsay."""
    from torch.autograd import Variable  # still importable: a thin alias kept for old code

    v = Variable(torch.ones(2, 2), requires_grad=True)
    loss = (v * 2).sum()
    try:
        loss.data[0]
        old_index = "works"
    except IndexError as e:
        old_index = f"IndexError ({str(e).split('.')[0]})"
    return [
        ThenNow(
            "x = Variable(torch.ones(2, 2), requires_grad=True)",
            "x = torch.ones(2, 2, requires_grad=True)",
            f"Variable(...) returns a {type(v).__module__}.{type(v).__name__}",
        ),
        ThenNow(
            "y.creator",
            "y.grad_fn",
            f"hasattr(loss, 'creator') is {hasattr(loss, 'creator')}; "
            f"loss.grad_fn is {type(loss.grad_fn).__name__}",
        ),
        ThenNow("loss.data[0]", "loss.item()", f"{old_index}; loss.item() = {loss.item()}"),
        ThenNow(
            "x.data (to step outside autograd)",
            "with torch.no_grad(): ... or x.detach()",
            f"x.detach().requires_grad is {v.detach().requires_grad}",
        ),
    ]


# --- one-variable examples --------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    formula: str  # LaTeX
    f: Callable[[torch.Tensor], torch.Tensor]
    df: Callable[[torch.Tensor], torch.Tensor]  # the derivative worked out by hand


EXAMPLES: dict[str, Example] = {
    "3(x + 2)² (the tutorial)": Example(r"3(x+2)^2", lambda x: 3 * (x + 2) ** 2, lambda x: 6 * (x + 2)),
    "x³": Example(r"x^3", lambda x: x**3, lambda x: 3 * x**2),
    "sin(x)": Example(r"\sin x", torch.sin, torch.cos),
    "x·sin(x)": Example(r"x \sin x", lambda x: x * torch.sin(x), lambda x: torch.sin(x) + x * torch.cos(x)),
    "exp(−x²) (a bell)": Example(
        r"e^{-x^2}", lambda x: torch.exp(-x * x), lambda x: -2 * x * torch.exp(-x * x)
    ),
    "sigmoid(x)": Example(r"\sigma(x)", torch.sigmoid, lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    "relu(x)": Example(r"\max(0, x)", torch.relu, lambda x: (x > 0).to(x.dtype)),
    "|x|": Example(r"|x|", torch.abs, torch.sign),
}

# How the per-element values are reduced to the one number backward() starts from.
REDUCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sum": torch.sum,
    "mean": torch.mean,
    "max": torch.max,
}


def _reduction_weights(reduction: str, y: torch.Tensor) -> torch.Tensor:
    """d(out)/d(y_i): 1 for sum, 1/n for mean; for max, the largest element(s) share it evenly
    (that is how torch's max backward splits ties)."""
    if reduction == "sum":
        return torch.ones_like(y)
    if reduction == "mean":
        return torch.full_like(y, 1.0 / y.numel())
    top = (y == y.max()).to(y.dtype)
    return top / top.sum()


@dataclass(frozen=True)
class ExampleResult:
    x: list[float]
    y: list[float]  # f(x)
    grad: list[float]  # x.grad from autograd
    analytic: list[float]  # the hand-derived gradient of the reduced output
    max_abs_diff: float
    grad_fn: str  # the grad_fn of the reduced output
    graph: Graph


def run_example(name: str, reduction: str, lo: float, hi: float, n: int) -> ExampleResult:
    """f over n points in [lo, hi], reduced, then backward: each x_i gets d(out)/dx_i."""
    ex, reduce = EXAMPLES[name], REDUCTIONS[reduction]
    x = torch.linspace(lo, hi, n, dtype=torch.float64, requires_grad=True)
    y = ex.f(x)
    out = reduce(y)
    out.backward()
    # chain rule: d(out)/dx_i = d(out)/dy_i · f'(x_i)
    analytic = _reduction_weights(reduction, y.detach()) * ex.df(x.detach())
    diff = (x.grad - analytic).abs().max().item()
    return ExampleResult(
        x.detach().tolist(),
        y.detach().tolist(),
        x.grad.tolist(),
        analytic.tolist(),
        diff,
        type(out.grad_fn).__name__,
        grad_graph(out, {id(x): "x"}),
    )


def nice(v: float) -> str:
    """4.5 rather than 4.500000000000001 for the page's prose."""
    return f"{v:.6g}" if math.isfinite(v) else str(v)


def fmt_values(values: list | float) -> str:
    """A step's tensor as compact text: [[3, 3], [3, 3]] rather than [[3.0, 3.0], [3.0, 3.0]]."""
    if isinstance(values, list):
        return "[" + ", ".join(fmt_values(v) for v in values) + "]"
    return nice(float(values))


def steps_table(w: Walkthrough) -> list[dict[str, str]]:
    """The walkthrough as rows for st.dataframe."""
    return [
        {
            "code": s.code,
            "value": fmt_values(s.values),
            "grad_fn": s.grad_fn or "None (a leaf: you made it)",
            "requires_grad": str(s.requires_grad),
            "is_leaf": str(s.is_leaf),
        }
        for s in w.steps
    ]
