"""Command line: `python -m playground train|evaluate|predict|bench|export …` (see --help)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from playground.core import config as cfg


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except (cfg.ConfigError, ValueError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m playground", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train the MLP on MNIST")
    _add_config_options(train)
    _add_data_dir(train)
    train.add_argument("--out", type=Path, help="save the trained model (checkpoint) here")
    train.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    train.set_defaults(command=_train)

    evaluate = sub.add_parser("evaluate", help="a model's accuracy on the 10,000 MNIST test images")
    evaluate.add_argument("--model", type=Path, help="checkpoint (default: the shipped model)")
    _add_data_dir(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print a JSON object")
    evaluate.set_defaults(command=_evaluate)

    predict = sub.add_parser("predict", help="classify digit images with a trained model")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    predict.add_argument("--model", type=Path, help="checkpoint (default: the shipped model)")
    predict.add_argument("--json", action="store_true", help="one JSON object per image")
    predict.set_defaults(command=_predict)

    bench = sub.add_parser("bench", help="the tutorial's loop vs the engine, seconds per epoch")
    bench.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: auto")
    bench.add_argument("--epochs", type=int, default=3)
    bench.add_argument("--json", action="store_true")
    _add_data_dir(bench)
    bench.set_defaults(command=_bench)

    export = sub.add_parser("export", help="write a standalone PyTorch training script")
    _add_config_options(export)
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(command=_export)
    return parser


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    d = cfg.TUTORIAL
    parser.add_argument(
        "--preset", choices=sorted(cfg.PRESETS), help="start from a preset (default: tutorial)"
    )
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        help=f"hidden layer sizes (default {' '.join(map(str, d.hidden))}); {cfg.describe('hidden')}",
    )
    parser.add_argument(
        "--dropout",
        type=float,
        nargs="+",
        help=f"dropout per hidden layer (default {' '.join(map(str, d.dropout))})",
    )
    parser.add_argument(
        "--batchnorm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BatchNorm after each hidden Linear (default on)",
    )
    parser.add_argument("--activation", choices=cfg.ACTIVATIONS)
    parser.add_argument("--optimizer", choices=cfg.OPTIMIZERS)
    parser.add_argument("--lr", type=float, help=f"learning rate (default {d.lr}); {cfg.describe('lr')}")
    parser.add_argument("--schedule", choices=cfg.SCHEDULES)
    parser.add_argument("--batch-size", type=int, dest="batch_size", help=f"default {d.batch_size}")
    parser.add_argument("--epochs", type=int, help=f"default {d.epochs}")
    parser.add_argument("--seed", type=int, help=f"default {d.seed}")
    parser.add_argument("--device", choices=cfg.DEVICES, help="default auto (GPU when present)")
    parser.add_argument(
        "--augment",
        type=float,
        help=f"data augmentation's strength (default {d.augment:g}: off); {cfg.describe('augment')}",
    )


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="MNIST folder (default: $PLAYGROUND_DATA_DIR or ~/.cache/pytorch-playground)",
    )


def config_from_args(args: argparse.Namespace) -> cfg.RunConfig:
    base = cfg.PRESETS[args.preset or "tutorial"]
    changes = {name: getattr(args, name) for name in cfg.FIELD_NAMES if getattr(args, name, None) is not None}
    if "hidden" in changes and "dropout" not in changes and len(changes["hidden"]) != len(base.dropout):
        changes["dropout"] = cfg.default_dropout(len(changes["hidden"]))
    return base.replace(**changes)


def _train(args: argparse.Namespace) -> int:
    from playground.core import checkpoint, data
    from playground.core.engine import DoneEvent, EpochEvent, StepEvent, Trainer, resolve_device

    config = config_from_args(args)
    device = resolve_device(config.device)
    root = args.data_dir or data.default_data_dir()
    dataset = data.load_mnist(root, device, progress=_download_progress)
    trainer = Trainer(config, dataset)
    done = None
    for event in trainer:
        if isinstance(event, StepEvent) and sys.stderr.isatty():
            _progress_bar(event)
        elif isinstance(event, EpochEvent):
            print(
                f"\repoch {event.epoch}/{event.epochs}  train loss {event.train_loss:.4f}  "
                f"test loss {event.test_loss:.4f}  test accuracy {event.test_accuracy:.2%}  "
                f"{event.epoch_seconds:.2f} s  {event.samples_per_s:,.0f} samples/s",
                file=sys.stderr,
            )
        elif isinstance(event, DoneEvent):
            done = event
    seconds_per_epoch = done.train_seconds / max(done.epochs_completed, 1)
    if args.out:
        meta = {
            "test_accuracy": done.evaluation.accuracy,
            "seconds_per_epoch": seconds_per_epoch,
            "device": str(device),
        }
        checkpoint.save(args.out, trainer.model, config, meta)
        print(f"saved {args.out}", file=sys.stderr)
    summary = {
        "config": config.to_params(),
        "test_accuracy": done.evaluation.accuracy,
        "seconds_per_epoch": seconds_per_epoch,
        "device": str(device),
        "cuda_graph": trainer.uses_cuda_graph,
    }
    print(json.dumps(summary) if args.json else f"test accuracy {done.evaluation.accuracy:.2%}")
    return 0


def _progress_bar(event) -> None:
    width = 30
    filled = int(width * event.step / event.steps_per_epoch)
    print(
        f"\repoch {event.epoch} [{'#' * filled}{'.' * (width - filled)}] "
        f"{event.step}/{event.steps_per_epoch}  loss {event.loss:.4f}  {event.samples_per_s:,.0f} samples/s",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _download_progress(fraction: float, message: str) -> None:
    print(f"\r{message}: {fraction:.0%}", end="", file=sys.stderr, flush=True)


def _evaluate(args: argparse.Namespace) -> int:
    """The model on MNIST's test images as they are (no preprocessing, no augmentation)."""
    from playground.core import checkpoint, data
    from playground.core.engine import evaluate
    from playground.digits import predict

    model, config, _ = checkpoint.load(args.model) if args.model else predict.load_default()
    root = args.data_dir or data.default_data_dir()
    data.ensure_mnist(root, progress=_download_progress)
    images, labels = data.load_test_images(root)
    result = evaluate(model, data.normalize(images.reshape(len(images), -1)), labels)
    if args.json:
        summary = {
            "model": str(args.model) if args.model else "default",
            "test_accuracy": result.accuracy,
            "test_loss": result.loss,
            "digits": len(labels),
            "config": config.to_params(),
        }
        print(json.dumps(summary))
    else:
        name = args.model or "the shipped default model"
        print(f"{name}: test accuracy {result.accuracy:.2%} on {len(labels):,} MNIST test digits")
    return 0


def _predict(args: argparse.Namespace) -> int:
    """The Draw page's own code: the same model loading, preprocessing and prediction."""
    from playground.core import checkpoint
    from playground.digits import predict, preprocessing

    model = checkpoint.load(args.model)[0] if args.model else predict.load_default()[0]
    for path in args.images:
        answer = predict.classify(model, preprocessing.load_image(path)).prediction
        if answer is None:
            print(
                json.dumps({"file": str(path), "digit": None, "error": "no digit found"})
                if args.json
                else f"{path}: no digit found (empty image)"
            )
        elif args.json:
            print(
                json.dumps(
                    {
                        "file": str(path),
                        "digit": answer.digit,
                        "probabilities": [round(float(p), 6) for p in answer.probabilities],
                    }
                )
            )
        else:
            print(f"{path}: {answer.digit} ({answer.confidence:.1%})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from playground.bench import run_bench
    from playground.core import data
    from playground.core.engine import resolve_device

    device = resolve_device(args.device or "auto")
    report = (lambda line: print(line, file=sys.stderr)) if args.json else print
    result = run_bench(args.data_dir or data.default_data_dir(), device, args.epochs, report)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"\n{result.device_name}, torch {result.torch_version}, {result.epochs} epochs")
        print(
            f"tutorial loop: {result.tutorial.seconds_per_epoch:.3f} s/epoch, "
            f"test accuracy {result.tutorial.test_accuracy:.2%}"
        )
        print(
            f"engine:        {result.engine.seconds_per_epoch:.3f} s/epoch, "
            f"test accuracy {result.engine.test_accuracy:.2%}"
            f"{' (CUDA graph)' if result.cuda_graph else ''}"
        )
        print(f"ratio: {result.ratio:.1f}x faster")
    return 0


def _export(args: argparse.Namespace) -> int:
    from playground import export

    args.out.write_text(export.training_script(config_from_args(args)))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
