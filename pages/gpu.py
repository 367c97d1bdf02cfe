"""GPU operations: device placement run live, and one matrix product timed on CPU and GPU."""

import streamlit as st

from ui import shell

shell.run_inside_app()

from playground import figures
from playground.core import system
from playground.lessons import gpu_ops
from ui import timing

st.title("⚡ GPU operations")
info = system.device_info()
st.markdown(
    "The tutorial moved tensors with `x.cuda()` inside an `if torch.cuda.is_available():` block. "
    "Today's habit is to pick a `device` once and write `.to(device)` everywhere, so the same code runs "
    "with or without a GPU."
)
if info.cuda:
    st.success(f"GPU found: **{info.name}**")
else:
    st.warning(
        f"No GPU here: {system.gpu_unavailable_reason()}. The lines that need CUDA show "
        "the error they raise on this machine, and the timing below runs on the CPU alone."
    )

# --- placement --------------------------------------------------------------------------------
st.subheader("Device placement, run on this machine")
steps = gpu_ops.placement_demo(info.cuda)
st.code("\n".join(f">>> {s.code}\n{s.result}" for s in steps), language="python")

# --- timing -----------------------------------------------------------------------------------
st.subheader("The same matrix product on CPU and GPU")
devices = ["cpu", "cuda"] if info.cuda else ["cpu"]
n = st.select_slider(
    "Matrix size n (n×n @ n×n, float32)",
    options=gpu_ops.sweep_sizes(gpu_ops.MAX_N),
    value=1024,
    key="matmul_n",
    help=f"Capped at {gpu_ops.MAX_N}; the sizes that would take the sweep past "
    f"{gpu_ops.TOTAL_BUDGET_S:.0f} s are skipped, so that a small CPU is never stuck.",
)
st.caption(
    f"Times every power of two up to n on {' and '.join(d.upper() for d in devices)}, best of several "
    "repeats each, in at most a few seconds. The CPU side runs on one thread at low priority: this "
    "server is shared, and one visitor's timing must not slow anyone's training. Whatever else the "
    "machine is doing shows up as noise, most at small n."
)
timing.time_it_button(n, devices)

if "matmul_result" in st.session_state:
    n_done, timings, skipped = st.session_state["matmul_result"]
    # Each device's largest n timed: n itself, or less when the time budget left n out.
    at_n = {t.device: t for t in sorted(timings, key=lambda t: t.n) if t.n <= n_done}
    cols = st.columns(3)
    for col, device in zip(cols, devices):
        if device in at_n:
            t = at_n[device]
            col.metric(
                f"{device.upper()}, n = {t.n}",
                f"{t.seconds * 1e3:.3g} ms",
                help=f"{t.gflops:.1f} GFLOP/s, best of {t.repeats}",
            )
    ratio = gpu_ops.speedup(timings, min((t.n for t in at_n.values()), default=n_done))
    if ratio is not None:
        cols[2].metric("GPU speed-up", f"{ratio:.1f}×")
    st.plotly_chart(figures.lessons.timing_figure(timings), key="matmul_chart")
    if skipped:
        st.warning(f"Time budget reached; not timed: {', '.join(skipped)}.")
    if not info.cuda:
        st.info("No GPU on this machine, so only the CPU is shown.")
