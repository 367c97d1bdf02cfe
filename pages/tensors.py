"""Tensors & dtypes: the dtype table read from torch, what each dtype stores, a memory calculator."""

import streamlit as st

from ui import shell

shell.run_inside_app()
import torch

from playground.lessons import dtypes, mixed_precision

st.title("🔢 Tensors & dtypes")
st.markdown(
    "A tensor is an n-dimensional array with one **dtype** for all its elements. The 2017 "
    "tutorial listed eight dtypes with their CPU and GPU tensor types; this torch has more. "
    f"Everything below is read from **torch {torch.__version__}** as the page runs, and the "
    "arithmetic columns come from *trying* `+`, `*`, `sum` and `@` on a tiny tensor."
)

# --- the table --------------------------------------------------------------------------------
rows = dtypes.dtype_rows()
st.subheader("Every dtype, read from this torch")
table = dtypes.dtype_table(rows)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=dtypes.table_height(len(table)),
    column_config={
        "dtype": st.column_config.TextColumn(pinned=True, width="medium"),
        "min": st.column_config.TextColumn(width="medium"),
        "max": st.column_config.TextColumn(width="medium"),
        "description": st.column_config.TextColumn(width="large"),
    },
)
st.caption(
    "min/max/eps/resolution/smallest normal: `torch.finfo` for floats (complex: per component), "
    "`torch.iinfo` for integers. eps is the gap between 1 and the next representable number. "
    "'–' in a tensor-type column: torch defines no legacy class for that dtype (use "
    "`torch.tensor(..., dtype=...)`)."
)
half = next(r for r in rows if r.name == "float16")
st.info(
    f"**Then and now.** The 2017 tutorial's CPU column said *N/A* for half precision. Today "
    f"`{half.cpu_type}` exists and basic arithmetic on this machine's CPU: **{half.cpu_arithmetic}**."
)

# --- what does each dtype store ---------------------------------------------------------------
st.subheader("What does each dtype store?")
text = st.text_input(
    "Type a number",
    value="300.7",
    key="dtype_value",
    help="Integers (e.g. 70000, -1, 18446744073709551616) are cast from int64 when they fit, so "
    "integer overflow wraps as in C; anything else ('0.1', '1e6', 'inf', 'nan') from float64.",
)
try:
    value = dtypes.parse_number(text)
except ValueError:
    st.error(f"'{text}' is not a number.")
else:
    stored = dtypes.stored_table(dtypes.what_is_stored(value))
    st.dataframe(stored, hide_index=True, width="stretch", height=dtypes.table_height(len(stored)))
    st.caption(
        "Try 0.1 (rounding), 70000 (float16 overflows, int16 wraps), -1 (unsigned types "
        "wrap), 16777217 (float32 runs out of integers), nan."
    )

# --- memory -----------------------------------------------------------------------------------
st.subheader("Memory calculator")
col_shape, col_dtype = st.columns([2, 1])
shape_text = col_shape.text_input(
    "Shape",
    value="64, 1, 28, 28",
    key="mem_shape",
    help="Comma-separated sizes: a batch of 64 MNIST digits is 64, 1, 28, 28.",
)
names = [n for n, _ in dtypes.available_dtypes()]
dtype_name = col_dtype.selectbox("dtype", names, index=names.index("float32"), key="mem_dtype")
try:
    shape = dtypes.parse_shape(shape_text)
    nbytes = dtypes.tensor_bytes(shape, getattr(torch, dtype_name))
except (ValueError, RuntimeError) as e:
    st.error(f"Not a shape torch accepts: {e}")
else:
    c1, c2, c3 = st.columns(3)
    c1.metric("Elements", f"{torch.Size(shape).numel():,}")
    c2.metric("Bytes", f"{nbytes:,}")
    c3.metric("Size", dtypes.human_bytes(nbytes))
    st.caption(
        f"`torch.empty({tuple(shape)}, dtype=torch.{dtype_name}, device='meta').nbytes`: "
        "the meta device knows sizes without allocating, so any shape is safe to try."
    )
    with st.expander("The same shape in every dtype"):
        mem = dtypes.memory_table(shape)
        st.dataframe(mem, hide_index=True, width="stretch", height=dtypes.table_height(len(mem)))

# --- training in bfloat16 ---------------------------------------------------------------------
st.subheader("Training in bfloat16")
st.markdown(
    "The train page's **Precision** setting trains the same network in *mixed precision*: under "
    "`torch.autocast`, the layers compute in bfloat16 (half the bytes, and on CPUs and GPUs with "
    "bfloat16 units, faster), while the weights themselves stay float32. Below, the weights of the "
    "shipped model (the tutorial recipe, trained) rounded to bfloat16, and one training step of it "
    "under autocast, with every dtype read from the tensors that step made."
)


samples, rounding, layers, kept = mixed_precision.shipped_model_lesson()
st.markdown(
    "**The weights, rounded.** A few weights of the first layer as float32 holds them, and as bfloat16 would:"
)
# st.table, not st.dataframe: small tables to read, without the toolbar that a phone always shows
# over the end of the line above.
st.table(samples, hide_index=True)
st.table(rounding, hide_index=True)
st.caption(
    "bfloat16 keeps float32's 8 exponent bits, so no weight overflows or vanishes, but only 8 of "
    "its 24 bits of precision: rounding moves a weight by up to 2⁻⁸ (0.39%) of its size. That is why "
    "autocast rounds a copy of the weights for each product and never the weights themselves: "
    "an update of lr × gradient, often far below 0.4% of a weight, would round away to nothing."
)
st.markdown("**One training step under `torch.autocast('cpu', dtype=torch.bfloat16)`**, layer by layer:")
st.table(layers, hide_index=True)
st.table(kept, hide_index=True)
st.caption(
    "Autocast casts the inputs of matrix products (Linear) to bfloat16 and runs ops that need range "
    "or accumulate many terms, such as the loss, in float32; the backward pass follows the forward "
    "pass's dtypes, and every gradient arrives in the weight's own dtype, float32, for the optimizer."
)
