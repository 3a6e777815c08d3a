"""Verbs on collections of fields: ``fit-many``, ``meta-init``, ``render-collection``."""
from __future__ import annotations

import json
import os
from pathlib import Path

from inr.cli.common import add_config, add_out, add_quiet, no_config_on_resume, parse_indices, parse_size
from inr.errors import InrError


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

    no_config_on_resume(args, f"{args.out}'s saved {CONFIG}", (("--limit", args.limit is not None),))
    if args.resume:
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


def _source_args(parser, out: str, out_help: str, limit_help: str, config_help: str) -> None:
    """fit-many's and meta-init's arguments: a source of signals, a config, an output directory."""
    parser.add_argument("source", help="folder of signal files, or an IDX image file (labels found beside it)")
    add_config(parser, config_help=config_help)
    add_out(parser, out, out_help)
    parser.add_argument("--limit", type=int, metavar="N", help=limit_help)
    add_quiet(parser)


def register(sub) -> None:
    many = sub.add_parser("fit-many", help="fit every signal of a folder or IDX file into a collection")
    _source_args(many, "COLLECTION", "collection directory", "fit only the first N signals",
                 config_help="YAML config (repeatable, applied in order over the modality's built-in default)")
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
    add_quiet(rc)
    rc.set_defaults(func=cmd_render_collection)
