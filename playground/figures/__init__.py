"""Every Plotly figure of the app, by page: training runs, drawings, the teaching pages.

The engine, the drawing pipeline and the lessons compute plain data; only these modules turn it
into pictures, so the rest of `playground` does not need plotly.
"""

from playground.figures import augment, drawing, inside, lessons, training

__all__ = ["augment", "drawing", "inside", "lessons", "training"]
