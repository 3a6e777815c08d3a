"""The ``inr`` command: verbs and positional inputs first, options after."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from inr.errors import DivergedError, InrError

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on one line with exit code 2."""

    def error(self, message):
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


def parse_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` -> (height, width)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InrError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1024x768") from None
    if w < 1 or h < 1:
        raise InrError(f"--size {text!r}: width and height must be positive")
    return h, w


def cmd_fit(args) -> int:
    from inr.rundir import resume_dir
    from inr.runs import CHECKPOINT, fit_run, run_config, saved_config

    if args.resume:
        if args.config or args.set:
            raise InrError("--resume continues with the run's saved config.yaml; drop --config and --set")
        cfg = saved_config(resume_dir(args.out, CHECKPOINT))
        if Path(cfg.input).resolve() != Path(args.path).resolve():
            raise InrError(f"{args.out}: was fitted to {cfg.input}, not {args.path}")
    else:
        overrides = {"modality": args.modality, "input": str(args.path)}
        cfg = run_config(args.config or [], args.set or [], overrides)
    metrics = fit_run(cfg, Path(args.out), resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    if not args.quiet:
        print(json.dumps(metrics))
        print(f"outputs in {args.out}")
    return 0


def cmd_compare(args) -> int:
    from inr.compare import compare
    from inr.modalities import MODALITIES

    configs = args.config or [None]
    rows = compare(args.modality, args.inputs, configs, args.set or [], Path(args.out), overwrite=args.overwrite,
                   quiet=args.quiet)
    metric, label = MODALITIES.get(args.modality).metric
    if not args.quiet:
        for r in rows:
            print(f"{r['model']:>16s}  {r['signal']:<24s} {label} {r[metric]:.2f}  {r['wall_seconds']:.1f} s")
        print(f"table in {Path(args.out) / 'compare.md'}, plot in {Path(args.out) / 'compare.png'}")
    return 0


def cmd_render(args) -> int:
    from inr.runs import render_run

    outputs = [(None, args.out), ("mesh", args.mesh), ("image", args.image), ("turntable", args.turntable)]
    outputs = [(kind, path) for kind, path in outputs if path]
    if not outputs:
        raise InrError("render: name an output with --out FILE (or --mesh, --image, --turntable for an SDF)")
    options = {
        "size": parse_size(args.size) if args.size else None,
        "rate": args.rate,
        "resolution": args.resolution,
        "original_scale": args.original_scale or None,
        "azimuth": args.azimuth,
        "elevation": args.elevation,
    }
    for kind, path in outputs:
        render_run(args.run_dir, path, kind=kind, **options)
        if not args.quiet:
            print(f"wrote {path}")
    return 0


def parse_indices(text: str) -> list[int]:
    """``0,5,10-19`` -> [0, 5, 10, ..., 19]."""
    out = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.partition("-")
            out.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    except ValueError:
        raise InrError(f"--indices {text!r}: expected numbers and ranges, e.g. 0,5,10-19") from None
    return out


def _init_devices(args) -> None:
    """Before any JAX work: split the CPU into one device per core (small
    batched matmuls use one thread per device, so fields sharded over these
    devices use every core; other platforms ignore it), then join a
    multi-process run (one process per host) if asked."""
    import jax

    n = args.cpu_devices
    if n is None and "force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n is not None:
        if n < 1:
            raise InrError(f"--cpu-devices must be >= 1 (got {n})")
        try:
            jax.config.update("jax_num_cpu_devices", n)
        except RuntimeError:  # JAX already started in this process (called as a library): keep its devices
            pass
    if args.coordinator is None:
        return

    if args.num_processes is None or args.process_id is None:
        raise InrError("--coordinator needs --num-processes and --process-id")
    jax.distributed.initialize(args.coordinator, args.num_processes, args.process_id)


def _collection_config(args, marker: str):
    """fit-many and meta-init: the config from --config/--set/--limit, or on
    --resume the one saved in the run being resumed (found by ``marker``)."""
    from inr.collections.config import CollectionRunConfig
    from inr.collections.sources import source_modality
    from inr.config import read_yaml, resolve
    from inr.modalities import MODALITIES
    from inr.rundir import resume_dir
    from inr.runs import CONFIG, data_config_for, run_config

    if args.resume:
        if args.config or args.set or args.limit is not None:
            raise InrError(f"--resume continues with {args.out}'s saved {CONFIG}; drop --config, --set, --limit")
        cfg = resolve(read_yaml(resume_dir(args.out, marker) / CONFIG), data_config_for, CollectionRunConfig)
        if Path(cfg.input).resolve() != Path(args.source).resolve():
            raise InrError(f"{args.out}: was made from {cfg.input}, not {args.source}")
        return cfg
    overrides = {"input": str(args.source)}
    if args.limit is not None:
        overrides["collection"] = {"limit": args.limit}
    return run_config(args.config or [], args.set or [], overrides, CollectionRunConfig,
                      modality=source_modality(args.source, [MODALITIES.get(n) for n in MODALITIES.names()]))


def cmd_fit_many(args) -> int:
    from inr.collections.fitmany import CONFIG, fit_many

    _init_devices(args)
    cfg = _collection_config(args, CONFIG)
    summary = fit_many(cfg, Path(args.out), resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    if not args.quiet:
        print(json.dumps(summary))
    return 0


def cmd_meta_init(args) -> int:
    from inr.collections.metainit import COLLECTION_CONFIG, meta_init
    from inr.runs import CHECKPOINT

    cfg = _collection_config(args, CHECKPOINT)
    summary = meta_init(cfg, Path(args.out), resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    if not args.quiet:
        print(json.dumps(summary))
        print(f"fit the collection from it: inr fit-many {args.source} --config {Path(args.out) / COLLECTION_CONFIG}"
              " --out COLLECTION")
    return 0


def cmd_render_collection(args) -> int:
    from inr.collections.render import render_collection

    size = parse_size(args.size) if args.size else None
    indices = parse_indices(args.indices) if args.indices else None
    done = render_collection(args.collection, args.out, indices, size, args.columns)
    if not args.quiet:
        print(f"wrote {args.out} ({len(done)} fields)")
    return 0


def cmd_weights_train(args) -> int:
    from inr.config import merged
    from inr.schema import from_dict
    from inr.weightspace.runs import dumps, train_run
    from inr.weightspace.train import WeightTrainConfig

    if args.resume and (args.config or args.set or args.model):
        raise InrError("--resume continues with the run's saved config; drop --config, --set and --model")
    overrides = {"task": args.task}
    if args.model:
        overrides["model"] = {"name": args.model}
    cfg = from_dict(WeightTrainConfig, merged(args.config or [], args.set or [], overrides))
    metrics = train_run(cfg, args.collection, args.out, overwrite=args.overwrite, resume=args.resume,
                        quiet=args.quiet)
    if not args.quiet:
        print(dumps(metrics))
        print(f"outputs in {args.out}")
    return 0


def cmd_weights_eval(args) -> int:
    from inr.weightspace.runs import eval_run

    print(json.dumps(eval_run(args.run_dir, args.collection, args.predictions)))
    return 0


def cmd_diffusion_train(args) -> int:
    from inr.config import merged
    from inr.diffusion.runs import train_run
    from inr.diffusion.train import DiffusionConfig
    from inr.schema import from_dict

    if args.resume and (args.config or args.set):
        raise InrError("--resume continues with the run's saved config; drop --config and --set")
    cfg = from_dict(DiffusionConfig, merged(args.config or [], args.set or [], {}))
    summary = train_run(cfg, args.collection, args.out, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    if not args.quiet:
        print(json.dumps(summary))
    return 0


def cmd_diffusion_sample(args) -> int:
    from inr.diffusion.runs import sample_run

    summary = sample_run(args.run_dir, args.out, args.n, steps=args.steps or 0, seed=args.seed,
                         overwrite=args.overwrite)
    print(json.dumps(summary))
    return 0


def cmd_diffusion_eval(args) -> int:
    from inr.diffusion.runs import eval_run

    print(json.dumps(eval_run(args.samples, args.reference, args.out), indent=2))
    return 0


def cmd_info(args) -> int:
    from inr.runs import describe_run

    print(json.dumps(describe_run(args.run_dir), indent=2))
    return 0


def _source_args(parser, out: str, out_help: str, limit_help: str, config_help: str) -> None:
    """fit-many's and meta-init's arguments: a source of signals, a config, an output directory."""
    parser.add_argument("source", help="folder of signal files, or an IDX image file (labels found beside it)")
    parser.add_argument("--config", action="append", metavar="FILE", help=config_help)
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config key")
    parser.add_argument("--out", required=True, metavar=out, help=out_help)
    parser.add_argument("--limit", type=int, metavar="N", help=limit_help)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help=f"replace an existing {out}")
    mode.add_argument("--resume", action="store_true", help=f"continue an interrupted {out}")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    from inr.modalities import MODALITIES

    parser = _Parser(prog="inr", description="Fit, render and inspect neural fields.")
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    defaults = ", ".join(f"{n}: inr/modalities/defaults/{MODALITIES.get(n).defaults['fit']}" for n in MODALITIES.names())
    fit = sub.add_parser("fit", help="fit one signal", description="Fit one signal. With no --config the "
                         f"modality's built-in default is used ({defaults}); --config files apply over it.")
    fit.add_argument("modality", choices=MODALITIES.names(), help="signal type")
    fit.add_argument("path", help="input file")
    fit.add_argument("--config", action="append", metavar="FILE",
                     help="YAML config (repeatable, applied in order over the modality's built-in default)")
    fit.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config key, e.g. train.lr=1e-3")
    fit.add_argument("--out", required=True, metavar="RUNDIR", help="run directory")
    mode = fit.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace an existing RUNDIR")
    mode.add_argument("--resume", action="store_true", help="continue RUNDIR from its last checkpoint")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=cmd_fit)

    comp = sub.add_parser("compare", help="fit several configs on several signals and tabulate them")
    comp.add_argument("modality", choices=MODALITIES.names(), help="signal type")
    comp.add_argument("inputs", nargs="+", metavar="PATH", help="input files")
    comp.add_argument("--config", action="append", metavar="FILE",
                      help="a model config to compare (repeatable; default: the built-in default)")
    comp.add_argument("--set", action="append", metavar="KEY=VALUE", help="override applied to every config")
    comp.add_argument("--out", required=True, metavar="DIR", help="where the runs, compare.md and compare.png go")
    comp.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    comp.add_argument("--quiet", action="store_true")
    comp.set_defaults(func=cmd_compare)

    render = sub.add_parser("render", help="render a fitted field to a file")
    render.add_argument("run_dir", metavar="RUNDIR")
    render.add_argument("--out", metavar="FILE",
                        help="output file; its suffix picks the format (.png, .wav, .ply/.obj/.glb, .gif)")
    render.add_argument("--size", metavar="WxH", help="picture size, e.g. 1024x768 (default: the signal's)")
    render.add_argument("--rate", type=int, metavar="HZ", help="audio: sample rate (default: the clip's)")
    sdf = render.add_argument_group("signed distance fields")
    sdf.add_argument("--mesh", metavar="FILE", help="marching-cubes mesh (.ply, .obj, .glb, .stl)")
    sdf.add_argument("--image", metavar="FILE", help="shaded sphere-traced picture (.png)")
    sdf.add_argument("--turntable", metavar="FILE", help="rotating shaded view (.gif)")
    sdf.add_argument("--resolution", type=int, metavar="N", help="marching-cubes grid side (default 256)")
    sdf.add_argument("--original-scale", action="store_true",
                     help="export the mesh in the input's coordinates instead of [-1, 1]^3")
    sdf.add_argument("--azimuth", type=float, metavar="DEG", help="camera azimuth around the y axis (default 30)")
    sdf.add_argument("--elevation", type=float, metavar="DEG", help="camera elevation (default 20)")
    render.add_argument("--quiet", action="store_true")
    render.set_defaults(func=cmd_render)

    many = sub.add_parser("fit-many", help="fit every signal of a folder or IDX file into a collection")
    _source_args(many, "COLLECTION", "collection directory", "fit only the first N signals",
                 config_help="YAML config (repeatable, applied in order)")
    many.add_argument("--cpu-devices", type=int, metavar="N",
                      help="CPU devices to shard the fields over (default: one per core)")
    dist = many.add_argument_group("multi-process (one process per host; see the README)")
    dist.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
    dist.add_argument("--num-processes", type=int, metavar="N")
    dist.add_argument("--process-id", type=int, metavar="I")
    many.set_defaults(func=cmd_fit_many)

    meta = sub.add_parser("meta-init", help="learn a collection's shared init by MAML, for fit-many to start from")
    _source_args(meta, "DIR", "where the init and its collection.yaml go", "learn from the first N signals only",
                 config_help="the collection's YAML config (repeatable); its train section is the fit to learn for")
    meta.set_defaults(func=cmd_meta_init)

    rc = sub.add_parser("render-collection", help="decode a collection's fields into a picture grid")
    rc.add_argument("collection", metavar="COLLECTION")
    rc.add_argument("--out", required=True, metavar="FILE", help="output file (e.g. grid.png)")
    rc.add_argument("--indices", metavar="LIST", help="fields to render, e.g. 0,5,10-19 (default: the first 64)")
    rc.add_argument("--size", metavar="WxH", help="size of each decoded field (default: the signals')")
    rc.add_argument("--columns", type=int, default=0, help="grid columns (default: square)")
    rc.add_argument("--quiet", action="store_true")
    rc.set_defaults(func=cmd_render_collection)

    weights = sub.add_parser("weights", help="learn on a collection's weights (DWSNets)")
    wsub = weights.add_subparsers(dest="weights_verb", required=True, parser_class=_Parser)
    wt = wsub.add_parser("train", help="train a weight-space model on a collection")
    wt.add_argument("collection", metavar="COLLECTION")
    wt.add_argument("--task", choices=["classify"], default="classify")
    wt.add_argument("--model", choices=["dws", "mlp"], help="DWSNet or the flattened-weights MLP (default: dws)")
    wt.add_argument("--config", action="append", metavar="FILE", help="YAML config (repeatable, applied in order)")
    wt.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one key, e.g. train.lr=1e-3")
    wt.add_argument("--out", required=True, metavar="RUNDIR")
    wmode = wt.add_mutually_exclusive_group()
    wmode.add_argument("--overwrite", action="store_true", help="replace an existing RUNDIR")
    wmode.add_argument("--resume", action="store_true", help="continue RUNDIR from its checkpoint")
    wt.add_argument("--quiet", action="store_true")
    wt.set_defaults(func=cmd_weights_train)
    we = wsub.add_parser("eval", help="predict every field of a collection with a trained model")
    we.add_argument("run_dir", metavar="RUNDIR")
    we.add_argument("collection", metavar="COLLECTION")
    we.add_argument("--predictions", metavar="FILE.json", help="write per-field predictions, in collection order")
    we.set_defaults(func=cmd_weights_eval)

    diff = sub.add_parser("diffusion", help="weight diffusion (HyperDiffusion) on a collection")
    dsub = diff.add_subparsers(dest="diffusion_verb", required=True, parser_class=_Parser)
    dt = dsub.add_parser("train", help="train a denoiser on a collection's weights")
    dt.add_argument("collection", metavar="COLLECTION")
    dt.add_argument("--config", action="append", metavar="FILE", help="YAML config (repeatable, applied in order)")
    dt.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one key, e.g. model.depth=2")
    dt.add_argument("--out", required=True, metavar="RUNDIR")
    dmode = dt.add_mutually_exclusive_group()
    dmode.add_argument("--overwrite", action="store_true", help="replace an existing RUNDIR")
    dmode.add_argument("--resume", action="store_true", help="continue RUNDIR from its checkpoint")
    dt.add_argument("--quiet", action="store_true")
    dt.set_defaults(func=cmd_diffusion_train)
    ds = dsub.add_parser("sample", help="sample new fields into a collection")
    ds.add_argument("run_dir", metavar="RUNDIR")
    ds.add_argument("--n", type=int, default=64, help="number of fields (default 64)")
    ds.add_argument("--out", required=True, metavar="SAMPLES", help="output collection directory")
    ds.add_argument("--steps", type=int, metavar="K", help="DDIM with K steps (default: all DDPM steps)")
    ds.add_argument("--seed", type=int, default=0)
    ds.add_argument("--overwrite", action="store_true")
    ds.set_defaults(func=cmd_diffusion_sample)
    de = dsub.add_parser("eval", help="MMD, COV, 1-NNA, memorization and classifier metrics of samples")
    de.add_argument("samples", metavar="SAMPLES")
    de.add_argument("--reference", metavar="COLLECTION", help="(default: the collection the run trained on)")
    de.add_argument("--out", metavar="FILE.json", help="also write the metrics here")
    de.set_defaults(func=cmd_diffusion_eval)

    info = sub.add_parser("info", help="print a run's spec, parameter count and metrics")
    info.add_argument("run_dir", metavar="RUNDIR")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DivergedError as err:
        print(f"inr: {err}", file=sys.stderr)
        return EXIT_DIVERGED
    except InrError as err:
        print(f"inr: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("inr: interrupted; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
