"""``inr weights``: learn on a collection's weights (train, eval)."""
from __future__ import annotations

import json

from inr.cli.common import Parser, add_config, add_out, add_quiet, no_config_on_resume


def cmd_weights_train(args) -> int:
    from inr.runs import run_config
    from inr.weightspace.runs import dumps, train_run
    from inr.weightspace.train import WeightTrainConfig

    no_config_on_resume(args, extra=(("--model", args.model), ("--task", args.task)))
    overrides = {"task": args.task} if args.task else {}
    # --model picks the variant before the --set keys apply, so that they tune it rather than being dropped with the
    # nameless section they form (a section naming another variant replaces the one below it)
    sets = ([f"model.name={args.model}"] if args.model else []) + (args.set or [])
    cfg = run_config(args.config or [], sets, overrides, WeightTrainConfig)
    metrics = train_run(cfg, args.collection, args.out, overwrite=args.overwrite, resume=args.resume,
                        quiet=args.quiet)
    if not args.quiet:
        print(dumps(metrics))
        print(f"outputs in {args.out}")
    return 0


def cmd_weights_eval(args) -> int:
    from inr.weightspace.runs import eval_run

    print(json.dumps(eval_run(args.run_dir, args.collection, args.predictions, args.edited, args.overwrite)))
    return 0


def register(sub) -> None:
    weights = sub.add_parser("weights", help="learn on a collection's weights (DWSNets, NFN, graph metanetworks)")
    wsub = weights.add_subparsers(dest="weights_verb", required=True, parser_class=Parser)
    wt = wsub.add_parser("train", help="train a weight-space model on a collection")
    wt.add_argument("collection", metavar="COLLECTION")
    wt.add_argument("--task", choices=["classify", "edit"], help="task: classify (the default: each field's "
                    "label) or edit (new weights whose field shows the picture dilated)")
    wt.add_argument("--model", metavar="NAME", help="model.name: dws (DWSNet, the default), nfn_hnp, nfn_np "
                    "(neural functionals), ng_gnn, ng_t, scale_gmn (graph metanetworks), mlp (the flattened-weights "
                    "MLP), or a registered model of your own")
    add_config(wt)
    add_out(wt, "RUNDIR", "run directory")
    add_quiet(wt)
    wt.set_defaults(func=cmd_weights_train)
    we = wsub.add_parser("eval", help="predict every field of a collection with a trained model")
    we.add_argument("run_dir", metavar="RUNDIR")
    we.add_argument("collection", metavar="COLLECTION")
    we.add_argument("--predictions", metavar="FILE.json", help="write per-field predictions, in collection order")
    we.add_argument("--edited", metavar="DIR", help="an editing model (--task edit): write the edited fields "
                    "as a collection")
    we.add_argument("--overwrite", action="store_true", help="replace an existing --edited collection")
    add_quiet(we)
    we.set_defaults(func=cmd_weights_eval)
