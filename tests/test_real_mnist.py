"""One epoch of the tutorial recipe on the real MNIST (CI points PLAYGROUND_DATA_DIR at it)."""

import pytest

from playground.core.config import TUTORIAL
from playground.core.data import load_mnist
from playground.core.engine import DoneEvent, Trainer

pytestmark = pytest.mark.slow


def test_one_epoch_of_the_tutorial_recipe_reaches_96_5_percent(real_mnist_dir):
    data = load_mnist(real_mnist_dir, "cpu")
    assert len(data.train_x) == 60000 and len(data.test_x) == 10000
    done = [e for e in Trainer(TUTORIAL.replace(epochs=1, device="cpu"), data) if isinstance(e, DoneEvent)][0]
    assert done.evaluation.accuracy >= 0.965, done.evaluation.accuracy
