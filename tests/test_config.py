import dataclasses

import pytest

from playground.core.config import FAST, FIELD_NAMES, TUTORIAL, ConfigError, RunConfig


def test_defaults_are_the_tutorial_recipe():
    c = RunConfig()
    assert (c.hidden, c.dropout, c.batchnorm, c.activation) == ((548, 252), (0.5, 0.2), True, "relu")
    assert (c.optimizer, c.lr, c.batch_size, c.epochs, c.seed, c.device) == ("adam", 1e-3, 64, 15, 0, "auto")


def test_config_is_immutable_and_hashable():
    c = RunConfig(hidden=[100, 50], dropout=[0.1, 0.1])
    assert c.hidden == (100, 50)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 0.1  # type: ignore[misc]
    assert hash(c) == hash(RunConfig(hidden=(100, 50), dropout=(0.1, 0.1)))


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"hidden": ()}, "hidden", "1–4"),
        ({"hidden": (1, 2, 3, 4, 5), "dropout": (0,) * 5}, "hidden", "1–4"),
        ({"hidden": (7,), "dropout": (0.0,)}, "hidden", "8–1024"),
        ({"hidden": (1025,), "dropout": (0.0,)}, "hidden", "8–1024"),
        ({"hidden": (64.5,), "dropout": (0.0,)}, "hidden", "8–1024"),
        ({"hidden": "548", "dropout": (0.0,)}, "hidden", "8–1024"),
        ({"dropout": (0.5,)}, "dropout", "one rate per hidden layer"),
        ({"dropout": (0.95, 0.2)}, "dropout", "0.0–0.9"),
        ({"dropout": (-0.1, 0.2)}, "dropout", "0.0–0.9"),
        ({"batchnorm": 1}, "batchnorm", "true or false"),
        ({"activation": "swish"}, "activation", "relu"),
        ({"optimizer": "rmsprop"}, "optimizer", "adam, adamw, sgd"),
        ({"lr": 0.0}, "lr", "1e-05 to 1"),
        ({"lr": 2.0}, "lr", "1e-05 to 1"),
        ({"lr": float("nan")}, "lr", "1e-05 to 1"),
        ({"lr": "0.1"}, "lr", "1e-05 to 1"),
        ({"schedule": "step"}, "schedule", "constant, onecycle"),
        ({"batch_size": 4}, "batch_size", "8 to 4096"),
        ({"batch_size": 5000}, "batch_size", "8 to 4096"),
        ({"batch_size": 64.0}, "batch_size", "8 to 4096"),
        ({"epochs": 0}, "epochs", "1 to 100"),
        ({"epochs": 101}, "epochs", "1 to 100"),
        ({"epochs": True}, "epochs", "1 to 100"),
        ({"seed": -1}, "seed", "0 to"),
        ({"device": "tpu"}, "device", "auto, cpu, cuda"),
    ],
)
def test_each_bad_value_names_its_field_and_range(changes, field, words):
    with pytest.raises(ConfigError) as err:
        RunConfig(**changes)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}:")
    assert words in str(err.value)


def test_round_trip_through_flat_string_dict():
    c = RunConfig(
        hidden=(64, 32, 16),
        dropout=(0.1, 0.0, 0.25),
        batchnorm=False,
        activation="tanh",
        optimizer="sgd",
        lr=0.0123456789,
        schedule="onecycle",
        batch_size=256,
        epochs=7,
        seed=42,
        device="cpu",
    )
    params = c.to_params()
    assert set(params) == set(FIELD_NAMES)
    assert all(isinstance(v, str) for v in params.values())
    assert RunConfig.from_params(params) == c
    assert RunConfig.from_params(TUTORIAL.to_params()) == TUTORIAL
    assert RunConfig.from_params(FAST.to_params()) == FAST


def test_from_params_is_strict_and_ignores_unknown_keys():
    assert RunConfig.from_params({"epochs": "3", "utm_source": "x"}) == RunConfig(epochs=3)
    with pytest.raises(ConfigError, match="epochs"):
        RunConfig.from_params({"epochs": "three"})
    with pytest.raises(ConfigError, match="batchnorm"):
        RunConfig.from_params({"batchnorm": "maybe"})


def test_lenient_parsing_keeps_good_values_and_warns_about_bad_ones():
    config, warnings = RunConfig.from_params_lenient(
        {"epochs": "999", "lr": "abc", "batch_size": "128", "hidden": "100,50", "dropout": "0.3"}
    )
    assert config.batch_size == 128 and config.hidden == (100, 50)
    assert config.epochs == 15 and config.lr == 1e-3
    assert config.dropout == (0.5, 0.2)  # wrong length for 2 layers: default kept
    text = " ".join(warnings)
    assert "epochs" in text and "lr" in text and "dropout" in text
    assert len(warnings) == 3


def test_lenient_parsing_of_dropout_that_does_not_fit_default_depth():
    config, warnings = RunConfig.from_params_lenient({"hidden": "64", "dropout": "0.1"})
    assert config.hidden == (64,) and config.dropout == (0.1,) and warnings == []
    config, warnings = RunConfig.from_params_lenient({"hidden": "64,64,64"})
    assert config.hidden == (64, 64, 64) and config.dropout == (0.5, 0.2, 0.2) and warnings == []
    config, warnings = RunConfig.from_params_lenient({"hidden": "64,64,64", "dropout": "0.1,0.1"})
    assert config.dropout == (0.5, 0.2, 0.2) and "dropout" in warnings[0]


def test_fast_preset_is_valid_and_bigger_batch():
    assert FAST.batch_size > TUTORIAL.batch_size and FAST.schedule == "onecycle"
