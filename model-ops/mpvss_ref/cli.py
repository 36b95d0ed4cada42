"""Command-line options that several model-ops scripts take (scripts/*.py), defined once."""
from .model import FLOW_INPUTS, SEMANTIC_FORMULATIONS, load_checkpoint

SEMANTIC_HELP = ("semantic inference formulation (default: the checkpoint's config, 'full'); a bundle's is "
                 "manifest.json config.semantic")


def add_config_overrides(ap, semantic_help=SEMANTIC_HELP):
    """--flow-input and --semantic: config fields that a script sets on the model it loads (unset: the checkpoint's
    config); `load_checkpoint_args` applies them."""
    ap.add_argument("--flow-input", choices=list(FLOW_INPUTS),
                    help="how the propagator makes the flow module's x0.5 input (default: the checkpoint's config)")
    ap.add_argument("--semantic", choices=list(SEMANTIC_FORMULATIONS), help=semantic_help)


def load_checkpoint_args(args):
    """`load_checkpoint` of --checkpoint with the --semantic and --flow-input of `add_config_overrides`."""
    return load_checkpoint(args.checkpoint, semantic=args.semantic, flow_input=args.flow_input)
