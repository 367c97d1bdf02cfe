"""Autograd: the tutorial's example computed live, its grad_fn graph, then-and-now, a playground,
and one training step of the real network seen through autograd."""

import pandas as pd
import streamlit as st

from ui import shell

shell.run_inside_app()

from playground import figures
from playground.lessons import autograd
from ui import backprop_panel

st.title("🔁 Autograd")
st.markdown(
    "Autograd records every operation on tensors that `requires_grad`, as a graph of `grad_fn` "
    "nodes; `backward()` walks that graph from the output back to the leaves and fills their "
    "`.grad`. Here is the tutorial's example, computed as you change it."
)

# --- the tutorial's example -------------------------------------------------------------------
st.page_link(
    "pages/draw.py",
    label="Autograd in action: which pixels decide a drawn digit",  # one line on a phone
    icon="✏️",
)
st.subheader("The tutorial's example")
per_element = st.toggle("Set each element of x", key="ag_per_element")
if per_element:
    # Four number inputs, not st.data_editor: Streamlit applies the rows an editor's browser says
    # it added even to a fixed-size table, about 0.5 ms each, so one message from a stranger's
    # browser could keep a core busy for minutes. A number input's range is checked on the server.
    x_value = [
        [
            cell.number_input(f"x[{i}, {j}]", -100.0, 100.0, start, 0.5, key=f"ag_x_{i}{j}")
            for j, (cell, start) in enumerate(zip(st.columns(2), row))
        ]
        for i, row in enumerate([[1.0, 2.0], [3.0, -2.0]])
    ]
else:
    x_value = st.slider("x (every element of the 2×2)", -5.0, 5.0, 1.0, 0.5, key="ag_x")

w = autograd.walkthrough(x_value)
# Tables to read, not to explore: st.table has no toolbar, which on a phone is always shown and
# covers the end of the line above.
st.table(pd.DataFrame(autograd.steps_table(w)), hide_index=True)
st.code("out.backward()\nx.grad", language="python")
col_auto, col_hand = st.columns(2)
with col_auto:
    st.markdown("**`x.grad`**, from autograd")
    st.table(pd.DataFrame(w.grad).map(autograd.nice), hide_index=True, hide_header=True)
    st.metric("x.grad[0, 0]", autograd.nice(w.grad[0][0]))
with col_hand:
    st.markdown("**By hand**: out = ¼ Σ 3(xᵢ + 2)², so ∂out/∂xᵢ = 3/2 · (xᵢ + 2)")
    st.table(pd.DataFrame(w.analytic).map(autograd.nice), hide_index=True, hide_header=True)
    st.metric("3/2 · (x[0, 0] + 2)", autograd.nice(w.analytic[0][0]))

st.markdown("**The graph `backward()` walks**, from `out.grad_fn` along `next_functions`:")
st.graphviz_chart(autograd.graph_dot(w.graph), alt="Autograd graph of grad_fn nodes from out back to x")
st.caption(
    "`y * y` uses y twice, so two edges lead to AddBackward0 and both contributions are "
    "added. The constants 2 and 3 need no gradient: their `next_functions` entry is None. "
    "AccumulateGrad writes into the leaf's `.grad`."
)

# --- then and now -----------------------------------------------------------------------------
st.subheader("Then and now")
st.table(
    pd.DataFrame(
        [{"2017": r.then, "today": r.now, "this torch says": r.today_says} for r in autograd.then_and_now()]
    ),
    hide_index=True,
)

# --- playground -------------------------------------------------------------------------------
st.subheader("Your turn: a function, a reduction, many x")
c1, c2, c3 = st.columns([2, 1, 2])
name = c1.selectbox("f(x)", list(autograd.EXAMPLES), index=3, key="ag_fn")
reduction = c2.radio("Reduce with", list(autograd.REDUCTIONS), key="ag_reduction", horizontal=True)
lo, hi = c3.slider("x range", -6.0, 6.0, (-3.0, 3.0), 0.5, key="ag_range")
n = st.slider("Points (x is a 1-D tensor of this many elements)", 2, 101, 25, key="ag_points")
if lo == hi:
    st.warning("Pick a range wider than one point.")
else:
    r = autograd.run_example(name, reduction, lo, hi, n)
    st.latex(rf"f(x) = {autograd.EXAMPLES[name].formula},\quad \text{{out}} = \text{{{reduction}}}(f(x))")
    st.plotly_chart(figures.lessons.example_figure(r, name, reduction), key="ag_example_chart")
    m1, m2 = st.columns(2)
    m1.metric("max |autograd − by hand|", f"{r.max_abs_diff:.2g}")
    m2.metric("out.grad_fn", r.grad_fn)
    st.caption(
        "sum hands each xᵢ its own f′(xᵢ); mean divides that by n; max gives it only to the "
        "largest element (shared on ties), so every other x.grad is 0."
    )
    with st.expander("This example's graph"):
        st.graphviz_chart(autograd.graph_dot(r.graph), alt="Autograd graph of the example")

# --- at full size ------------------------------------------------------------------------------
backprop_panel.panel()
