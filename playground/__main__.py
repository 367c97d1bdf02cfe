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
    predict.add_argument(
        "--number", action="store_true", help="each image is a number: cut it into digits, read each"
    )
    predict.set_defaults(command=_predict)

    bench = sub.add_parser("bench", help="the tutorial's loop vs the engine, seconds per epoch")
    bench.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: auto")
    bench.add_argument("--epochs", type=int, default=3)
    bench.add_argument(
        "--precision",
        choices=cfg.PRECISIONS,
        nargs="+",
        default=["fp32", "bf16"],
        help="the engine's precisions to time (default: fp32 bf16; fp16 on CUDA only)",
    )
    bench.add_argument(
        "--repeats", type=int, default=1, help="run every loop this many times, taking turns (default 1)"
    )
    bench.add_argument(
        "--batch-size", type=int, default=cfg.TUTORIAL.batch_size, help="the engine's (the tutorial's is 64)"
    )
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
        "--precision",
        choices=cfg.PRECISIONS,
        help="fp32 (default, the tutorial), bf16 or fp16 mixed precision (autocast; fp16 on CUDA only)",
    )
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
    from playground.core import checkpoint, data, precision
    from playground.core.engine import DoneEvent, EpochEvent, StepEvent, Trainer, resolve_device

    config = config_from_args(args)
    device = resolve_device(config.device)
    precision.check(config.precision, device)  # before loading MNIST
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
    if args.number:
        return _predict_numbers(model, args)
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


def _predict_numbers(model, args: argparse.Namespace) -> int:
    """The Draw page's *A number* tab: each image cut into digits, each digit read."""
    from playground.digits import number, preprocessing

    for path in args.images:
        reading = number.read(model, preprocessing.load_image(path))
        error = (
            f"more than {number.MAX_DIGITS} separate marks"
            if reading.too_many
            else ("no digit found" if not reading.digits else None)
        )
        if args.json:
            digits = [_read_digit_json(d) for d in reading.digits]
            row = {"file": str(path), "number": reading.text or None, "digits": digits}
            print(json.dumps(row | ({"error": error} if error else {})))
        elif error:
            print(f"{path}: {error}")
        else:
            sure = ", ".join(f"{d.prediction.digit} {d.prediction.confidence:.1%}" for d in reading.digits)
            print(f"{path}: {reading.text} ({sure})")
    return 0


def _read_digit_json(read) -> dict:
    """One digit of a number: its answer, where it is: (top, left, bottom, right) in pixels, and
    whether it was cut from a neighbour it touched."""
    confidence = round(read.prediction.confidence, 6)
    box = list(read.digit.box)
    return {
        "digit": read.prediction.digit,
        "confidence": confidence,
        "box": box,
        "touched": read.digit.touched,
    }


def _bench(args: argparse.Namespace) -> int:
    from playground.bench import run_bench
    from playground.core import data
    from playground.core.engine import resolve_device

    if not 1 <= args.epochs <= cfg.MAX_EPOCHS or not 1 <= args.repeats <= 20:
        raise ValueError(f"--epochs must be 1–{cfg.MAX_EPOCHS} and --repeats 1–20")
    cfg.TUTORIAL.replace(batch_size=args.batch_size)  # a bad batch size: ConfigError, said plainly
    device = resolve_device(args.device or "auto")
    report = (lambda line: print(line, file=sys.stderr)) if args.json else print
    result = run_bench(
        args.data_dir or data.default_data_dir(),
        device,
        args.epochs,
        report,
        precisions=list(dict.fromkeys(args.precision)),  # each once, in the order given
        repeats=args.repeats,
        batch_size=args.batch_size,
    )
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    repeats = f", median of {result.repeats} repeats" if result.repeats > 1 else ""
    batch = f", engine batch {result.batch_size}" if result.batch_size != cfg.TUTORIAL.batch_size else ""
    print(f"\n{result.device_name}, torch {result.torch_version}, {result.epochs} epochs{repeats}{batch}")
    print(f"{'':14} {'s/epoch':>8}  {'vs tutorial':>11}  test accuracy")
    loops = [("tutorial loop", result.tutorial, None)]
    loops += [(f"engine {p}", r, result.ratio[p]) for p, r in result.engine.items()]
    for name, loop, ratio in loops:
        times = f"{ratio:.2f}x" if ratio else ""
        print(f"{name:14} {loop.seconds_per_epoch:8.3f}  {times:>11}  {loop.test_accuracy:.2%}")
    if result.cuda_graph:
        print("the engine ran its steps as a CUDA graph")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from playground import export

    args.out.write_text(export.training_script(config_from_args(args)))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
