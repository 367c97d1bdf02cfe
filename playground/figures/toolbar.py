"""Room for a chart's toolbar. Plotly draws its toolbar (download, zoom, pan, reset) over the top
right of a chart: while a mouse is over it, and all the time on a touch screen, where nothing
hovers. A title or a top axis title in that band is hidden under it on a phone. So every figure
keeps the band free: its title goes in a row of its own below the toolbar, and the buttons a
learner has no use for (box and lasso selection, zoom steps, autoscale) are left out."""

from __future__ import annotations

import plotly.graph_objects as go

TOOLBAR_PX = 34  # the toolbar's band at the top of a figure: 2 px above buttons of 28 px, and air
TITLE_PX = 28  # one line of title at Plotly's default size, and the gap under it
UNUSED_BUTTONS = ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]


def keep_toolbar_clear(figure: go.Figure, title: str | None = None, above_plot: int = 0) -> go.Figure:
    """`figure` with the top band left to the toolbar: `title` (if any) left-aligned in its own
    row under the band, then `above_plot` px for what the plot puts above itself (a top axis's
    ticks and title). Returns the figure, changed in place."""
    top = TOOLBAR_PX + (TITLE_PX if title else 0) + above_plot
    margin = figure.layout.margin
    figure.update_layout(
        margin=dict(t=top, l=margin.l, r=margin.r, b=margin.b),
        modebar=dict(remove=UNUSED_BUTTONS),
    )
    if title:
        figure.update_layout(
            title=dict(
                text=title,
                x=0,
                xref="paper",
                xanchor="left",
                y=1,
                yref="paper",
                yanchor="bottom",
                pad=dict(b=above_plot + 6),
            )
        )
    return figure
