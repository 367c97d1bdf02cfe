"""A drawing on the canvas → MNIST-style model input, the model's answer, and robustness measures."""
