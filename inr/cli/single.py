"""Verbs on one signal: ``fit``, ``compare``, ``render``, ``info``."""
from __future__ import annotations

import json
from pathlib import Path

from inr.cli.common import add_config, add_out, add_quiet, no_config_on_resume, parse_size
from inr.errors import InrError


def cmd_fit(args) -> int:
    from inr.rundir import resume_dir
    from inr.runs import CHECKPOINT, fit_run, run_config, saved_config

    no_config_on_resume(args)
    if args.resume:
        cfg = saved_config(resume_dir(args.out, CHECKPOINT))
        if Path(cfg.input).resolve() != Path(args.path).resolve():
            raise InrError(f"{args.out}: was fitted to {cfg.input}, not {args.path}")
    else:
        cfg = run_config(args.config or [], args.set or [], {"modality": args.modality, "input": str(args.path)})
    metrics = fit_run(cfg, Path(args.out), resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    if not args.quiet:
        print(json.dumps(metrics))
        print(f"outputs in {args.out}")
    return 0


def cmd_compare(args) -> int:
    from inr.compare import compare
    from inr.modalities import MODALITIES

    rows = compare(args.modality, args.inputs, args.config or [None], args.set or [], Path(args.out),
                   overwrite=args.overwrite, quiet=args.quiet)
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


def cmd_info(args) -> int:
    from inr.runs import describe_run

    print(json.dumps(describe_run(args.run_dir), indent=2))
    return 0


def register(sub) -> None:
    from inr.modalities import MODALITIES

    defaults = ", ".join(f"{n}: inr/modalities/defaults/{MODALITIES.get(n).defaults['fit']}" for n in MODALITIES.names())
    fit = sub.add_parser("fit", help="fit one signal", description="Fit one signal. With no --config the "
                         f"modality's built-in default is used ({defaults}); --config files apply over it.")
    fit.add_argument("modality", choices=MODALITIES.names(), help="signal type")
    fit.add_argument("path", help="input file")
    add_config(fit, config_help="YAML config (repeatable, applied in order over the modality's built-in default)")
    add_out(fit, "RUNDIR", "run directory")
    add_quiet(fit)
    fit.set_defaults(func=cmd_fit)

    comp = sub.add_parser("compare", help="fit several configs on several signals and tabulate them")
    comp.add_argument("modality", choices=MODALITIES.names(), help="signal type")
    comp.add_argument("inputs", nargs="+", metavar="PATH", help="input files")
    add_config(comp, config_help="a model config to compare (repeatable; default: the built-in default)",
               set_help="override applied to every config")
    add_out(comp, "DIR", "where the runs, compare.md and compare.png go", resume=False)
    add_quiet(comp)
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
    add_quiet(render)
    render.set_defaults(func=cmd_render)

    info = sub.add_parser("info", help="print a run's spec, parameter count and metrics")
    info.add_argument("run_dir", metavar="RUNDIR")
    add_quiet(info)
    info.set_defaults(func=cmd_info)
