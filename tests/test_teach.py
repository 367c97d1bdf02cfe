"""Teaching a model a visitor's handwriting (playground.digits.teach), with the shipped model and
MNIST-format digits read by the real loader (a small generated set)."""

import time

import pytest
import torch

from playground.core import data
from playground.core.config import RunConfig
from playground.core.model import build_model
from playground.digits import predict, preprocessing, teach
from tests.drawings import draw_digit


def model_input(digit: int, dx: int = 0, dy: int = 0) -> torch.Tensor:
    """`digit` drawn on the 280×280 pad, as the Draw page gives it to the model."""
    return preprocessing.preprocess(draw_digit(digit, size=(280, 280), offset=(dx - 60, dy - 10))).model_input


@pytest.fixture(scope="module")
def default():
    model, config, _ = predict.load_default()
    return model, config


@pytest.fixture
def mnist(fake_mnist_dir):
    return data.load_train_sample(fake_mnist_dir), data.load_test_images(fake_mnist_dir)


def test_a_model_taught_that_these_ones_are_sevens_reads_a_new_one_as_seven(default, mnist):
    """A visitor who writes 7 the way others write 1: the default model reads 1 (read two ways: the
    lesson's count, and predict on a drawing it was not taught); taught three, it reads a fourth
    as 7. The model it was taught from is not changed."""
    model, config = default
    ones = torch.stack([model_input(1, dx) for dx in (-40, 0, 40)])
    new_one = model_input(1, -20, 30)
    before = [p.clone() for p in model.parameters()]
    assert predict.predict(model, new_one).digit == 1

    lesson = teach.teach(model, config, ones, torch.tensor([7, 7, 7]), *mnist)

    assert (lesson.examples, lesson.right_before, lesson.right_after) == (3, 0, 3)
    assert predict.predict(lesson.model, new_one).digit == 7
    assert predict.predict(model, new_one).digit == 1
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert not lesson.model.training and not model.training


def test_a_lesson_of_right_labels_keeps_mnist_and_is_deterministic(default, mnist):
    """Taught digits it already reads, the model does not read the test set worse (the replayed
    digits are of the generated set's kind, so it may read it better) and the same lesson twice
    gives the same weights."""
    model, config = default
    inputs = torch.stack([model_input(d) for d in (0, 4, 7)])
    digits = torch.tensor([0, 4, 7])
    first = teach.teach(model, config, inputs, digits, *mnist)
    second = teach.teach(model, config, inputs, digits, *mnist)
    assert first.right_before == first.right_after == 3
    assert first.mnist_after >= first.mnist_before - 0.01
    assert 0.5 < first.mnist_before < 1.0  # the generated digits are a font's, not handwriting
    assert all(torch.equal(a, b) for a, b in zip(first.model.parameters(), second.model.parameters()))


def test_a_lesson_reports_its_progress_and_is_bounded_in_time(mnist):
    """The most drawings a lesson takes, on the widest network a run may have, within seconds of
    CPU (a lesson always runs STEPS steps, whatever it is sent)."""
    config = RunConfig(hidden=(1024,) * 4, dropout=(0.5,) * 4, augment=1.0)
    model = build_model(config)
    reports = []
    shapes = [(0, 1, 4, 7)[i % 4] for i in range(teach.MAX_EXAMPLES)]
    inputs = torch.stack([model_input(d, dx=i) for i, d in enumerate(shapes)])
    digits = torch.tensor(shapes)
    cpu = time.process_time()
    teach.teach(model, config, inputs, digits, *mnist, report=lambda f, m: reports.append(f))
    assert time.process_time() - cpu < 30  # about 4 s of CPU alone on 2 cores
    assert reports == sorted(reports) and reports[0] <= 0.1 and reports[-1] >= 0.9


@pytest.mark.parametrize(
    ("inputs", "digits", "why"),
    [
        (torch.zeros(0, 784), torch.zeros(0, dtype=torch.long), "1 to 30 drawings"),
        (torch.zeros(31, 784), torch.zeros(31, dtype=torch.long), "not 31"),
        (torch.zeros(2, 28, 28), torch.tensor([1, 2]), "28×28 drawings"),
        (torch.zeros(2, 784), torch.tensor([1]), "one digit label each"),
        (torch.zeros(2, 784), torch.tensor([1, 10]), "0 to 9"),
        (torch.zeros(2, 784), torch.tensor([1.0, 2.0]), "0 to 9"),
        (torch.full((2, 784), float("nan")), torch.tensor([1, 2]), "not numbers"),
    ],
)
def test_examples_a_lesson_cannot_take_are_refused_with_why(default, mnist, inputs, digits, why):
    model, config = default
    with pytest.raises(teach.LessonError, match=why):
        teach.teach(model, config, inputs, digits, *mnist)


def test_the_replay_sample_is_the_first_training_digits_read_by_the_real_loader(fake_mnist_dir):
    images, labels = data.load_train_sample(fake_mnist_dir, count=50)
    full = data.load_mnist(fake_mnist_dir, "cpu", download=False)
    assert images.shape == (50, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(labels, full.train_y[:50])
    assert torch.allclose(data.normalize(images.reshape(50, -1)), full.train_x[:50])


def test_on_real_mnist_a_right_lesson_costs_little_and_a_wrong_one_costs_the_ones(default, real_mnist_dir):
    """The trade the page shows, on MNIST itself: taught three 1s as 1s, the test set's accuracy
    moves by under half a point; taught them as 7s, the model reads MNIST's own 1s as 7s too, and
    the test set (11% ones) falls by points."""
    model, config = default
    mnist = data.load_train_sample(real_mnist_dir), data.load_test_images(real_mnist_dir)
    ones = torch.stack([model_input(1, dx) for dx in (-40, 0, 40)])
    right = teach.teach(model, config, ones, torch.tensor([1, 1, 1]), *mnist)
    wrong = teach.teach(model, config, ones, torch.tensor([7, 7, 7]), *mnist)
    assert right.mnist_before > 0.99
    assert abs(right.mnist_after - right.mnist_before) < 0.005
    assert wrong.mnist_after < wrong.mnist_before - 0.02


@pytest.mark.parametrize(
    ("typed", "count", "digits"), [("174", 3, [1, 7, 4]), (" 1 7 4 ", 3, [1, 7, 4]), ("0", 1, [0])]
)
def test_a_number_typed_for_the_number_pads_digits_labels_them(typed, count, digits):
    assert teach.number_labels(typed, count) == digits


@pytest.mark.parametrize(
    ("typed", "count", "why"),
    [
        ("", 3, "type the number the 3 digits make"),
        ("   ", 2, "type the number the 2 digits make"),
        ("17a", 3, "digits 0–9 only"),
        ("1.7", 2, "digits 0–9 only"),
        ("١٧", 2, "digits 0–9 only"),  # Arabic-Indic digits: str.isdigit says yes, int() would read them
        ("17", 3, "found 3 digits and “17” has 2"),
        ("1745", 3, "found 3 digits and “1745” has 4"),
        ("12", 1, "found 1 digit and"),
        ("7" * 200, 3, "too long"),
    ],
)
def test_a_number_that_cannot_label_the_digits_is_refused_with_what_to_type(typed, count, why):
    with pytest.raises(teach.LessonError, match=why):
        teach.number_labels(typed, count)
