"""The ``i2pa human`` verb: plan, run (serve) and simulate the psychophysical experiment.

Wired in by ``cli_verbs.REGISTER.append(register_human)`` (or calling it in ``build_parser``).
Parameters come from the ``human.plan`` and ``human.panel`` sections of ``--params``.
"""

from __future__ import annotations

from pathlib import Path

from i2pa_core.cli.common import (UserError, add_common, add_config_flags, config_section,
                                  resolve_seed)
from i2pa_core.config import from_mapping


def _run_plan(args) -> int:
    import pandas as pd

    from i2pa_core.human.plan import HumanConfig, make_plan, write_plan

    cfg = from_mapping(HumanConfig, config_section(args, "human.plan"), "human.plan")
    pairs, posts = pd.read_parquet(args.pairs), pd.read_parquet(args.posts)
    try:
        plan = make_plan(pairs, posts, cfg, resolve_seed(args))
    except (KeyError, ValueError) as exc:
        raise UserError(f"cannot make a plan: {exc}") from None
    write_plan(args.out, plan)
    print(f"plan: {len(plan['pairs'])} test pairs, {len(plan['training'])} training pairs, "
          f"{cfg.n_subjects} declared subjects -> {args.out}")
    return 0


def _run_serve(args) -> int:
    from i2pa_core.human.plan import read_plan
    from i2pa_core.human.server import create_app, serve

    if not args.images.is_dir():
        raise UserError(f"{args.images}: no such image folder")
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be 0-65535, got {args.port}")
    try:
        plan = read_plan(args.plan)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    subjects = args.subjects or args.responses.with_name("subjects.csv")
    serve(create_app(plan, args.images, args.responses, subjects), args.port)
    return 0


def _run_panel(args) -> int:
    import pandas as pd

    from i2pa_core.human.panel import PanelConfig, simulate_panel, write_panel
    from i2pa_core.human.plan import read_plan

    cfg = from_mapping(PanelConfig, config_section(args, "human.panel"), "human.panel")
    try:
        plan = read_plan(args.plan)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    responses, subjects = simulate_panel(plan, pd.read_parquet(args.truth), cfg, resolve_seed(args))
    write_panel(responses, subjects, args.responses, args.subjects)
    print(f"simulated panel: {len(subjects)} observers, {len(responses):,} answers "
          f"-> {args.responses}, {args.subjects}")
    return 0


def register_human(verbs) -> None:
    """Add ``human`` with sub-verbs ``plan``, ``serve`` and ``panel`` to the verb sub-parsers."""
    human = verbs.add_parser(
        "human", help="psychophysical experiment: plan, web page, simulated panel (Sec. 4.4)",
        description="The paper's psychophysical experiment (Sec. 4.4, Table 4, Fig. 8-9).",
        epilog="example: i2pa human plan --pairs data/pairs/pairs.parquet "
        "--posts data/simulate/posts.parquet --out data/human/plan.json")
    sub = human.add_subparsers(dest="human_verb", metavar="SUBVERB", required=True)
    _register_plan(sub)
    _register_serve(sub)
    _register_panel(sub)


def _register_plan(sub) -> None:
    p = sub.add_parser(
        "plan", help="draw test and training pairs and every subject's order and sides",
        description="Draw N test PDIPs at random from the test split, 8 training pairs from the "
        "other splits (no post shared with the test pairs), and for each declared subject the "
        "pair order, left/right sides (balanced) and sessions; write them as a JSON plan. "
        "Same seed and options, same plan.",
        epilog="example: i2pa human plan --pairs data/pairs/pairs.parquet --posts "
        "data/simulate/posts.parquet --out data/human/plan.json --n-pairs 200 --seed 0")
    p.add_argument("--pairs", required=True, type=Path, help="pairs table (.parquet), "
                   "e.g. data/pairs/pairs.parquet")
    p.add_argument("--posts", required=True, type=Path, help="posts table with image paths "
                   "and likes (.parquet), e.g. data/simulate/posts.parquet")
    p.add_argument("--out", required=True, type=Path, help="plan file to write, e.g. plan.json")
    add_common(p, "human.plan")
    add_config_flags(p, [("--n-pairs", int, "n_pairs", "test pairs (default 200; paper 1000)"),
               ("--n-training", int, "n_training", "training pairs (default 8)"),
               ("--session-pairs", int, "session_pairs", "pairs per session (default 50)"),
               ("--session-minutes", float, "session_minutes", "session limit (default 30)"),
               ("--n-subjects", int, "n_subjects", "declared subjects (default 30)")])
    p.set_defaults(run=_run_plan)


def _register_serve(sub) -> None:
    p = sub.add_parser(
        "serve", help="run the experiment web page on 127.0.0.1",
        description="Serve the experiment page (questionnaire, training with feedback, "
        "sessions, review) on 127.0.0.1 only. Every answer is appended to RESPONSES.csv at "
        "once (fsync'ed); a reload or restart resumes where the subject stopped.",
        epilog="example: i2pa human serve --plan data/human/plan.json --images data/render "
        "--responses data/human/responses.csv --port 8000   (then open http://127.0.0.1:8000/)")
    p.add_argument("--plan", required=True, type=Path, help="plan file from 'i2pa human plan'")
    p.add_argument("--images", required=True, type=Path,
                   help="folder the plan's image paths are relative to, e.g. data/render")
    p.add_argument("--responses", required=True, type=Path,
                   help="responses CSV, appended to (created if missing)")
    p.add_argument("--subjects", type=Path, help="subjects CSV (default: subjects.csv beside "
                   "--responses), e.g. data/human/subjects.csv")
    p.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; "
                   "0 picks a free one), e.g. --port 8080")
    p.set_defaults(run=_run_serve)


def _register_panel(sub) -> None:
    p = sub.add_parser(
        "panel", help="answer a plan with the simulated observer panel",
        description="Simulate 30 observers with the paper's demographics answering the plan; "
        "writes responses and subjects files in the web page's format. Results from them are "
        "a simulated panel, not human data.",
        epilog="example: i2pa human panel --plan data/human/plan.json --truth "
        "data/simulate/truth.parquet --responses data/human/responses.csv "
        "--subjects data/human/subjects.csv --seed 0")
    p.add_argument("--plan", required=True, type=Path, help="plan file from 'i2pa human plan'")
    p.add_argument("--truth", required=True, type=Path,
                   help="truth table of the simulated platform, e.g. data/simulate/truth.parquet")
    p.add_argument("--responses", required=True, type=Path, help="responses CSV to write")
    p.add_argument("--subjects", required=True, type=Path, help="subjects CSV to write")
    add_common(p, "human.panel")
    p.set_defaults(run=_run_panel)


__all__ = ["register_human"]
