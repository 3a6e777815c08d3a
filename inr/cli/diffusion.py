"""``inr diffusion``: weight diffusion (HyperDiffusion) on a collection (train, sample, eval)."""
from __future__ import annotations

import json

from inr.cli.common import Parser, add_config, add_out, add_quiet, no_config_on_resume


def cmd_diffusion_train(args) -> int:
    from inr.diffusion.runs import train_run
    from inr.diffusion.train import DiffusionConfig
    from inr.runs import run_config

    no_config_on_resume(args)
    cfg = run_config(args.config or [], args.set or [], {}, DiffusionConfig)
    summary = train_run(cfg, args.collection, args.out, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    if not args.quiet:
        print(json.dumps(summary))
    return 0


def cmd_diffusion_sample(args) -> int:
    from inr.diffusion.runs import sample_run

    summary = sample_run(args.run_dir, args.out, args.n, steps=args.steps or 0, seed=args.seed,
                         overwrite=args.overwrite)
    if not args.quiet:
        print(json.dumps(summary))
    return 0


def cmd_diffusion_eval(args) -> int:
    from inr.diffusion.runs import eval_run

    print(json.dumps(eval_run(args.samples, args.reference, args.out), indent=2))
    return 0


def register(sub) -> None:
    diff = sub.add_parser("diffusion", help="weight diffusion (HyperDiffusion) on a collection")
    dsub = diff.add_subparsers(dest="diffusion_verb", required=True, parser_class=Parser)
    dt = dsub.add_parser("train", help="train a denoiser on a collection's weights")
    dt.add_argument("collection", metavar="COLLECTION")
    add_config(dt, set_help="override one key, e.g. model.depth=2")
    add_out(dt, "RUNDIR", "run directory")
    add_quiet(dt)
    dt.set_defaults(func=cmd_diffusion_train)
    ds = dsub.add_parser("sample", help="sample new fields into a collection")
    ds.add_argument("run_dir", metavar="RUNDIR")
    ds.add_argument("--n", type=int, default=64, help="number of fields (default 64)")
    add_out(ds, "SAMPLES", "output collection directory", resume=False)
    ds.add_argument("--steps", type=int, metavar="K", help="DDIM with K steps (default: all DDPM steps)")
    ds.add_argument("--seed", type=int, default=0)
    add_quiet(ds)
    ds.set_defaults(func=cmd_diffusion_sample)
    de = dsub.add_parser("eval", help="MMD, COV, 1-NNA, memorization and classifier metrics of samples")
    de.add_argument("samples", metavar="SAMPLES")
    de.add_argument("--reference", metavar="COLLECTION", help="(default: the collection the run trained on)")
    de.add_argument("--out", metavar="FILE.json", help="also write the metrics here")
    add_quiet(de)
    de.set_defaults(func=cmd_diffusion_eval)
