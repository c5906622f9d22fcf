"""Arguments several subcommands share, declared here once: the stack, given as Pulumi users type
it (`-s/--stack`) or positionally, and the project folder, refused early when it holds no Pulumi
project."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from fleet.tools.offline import stacks

PROJECT_DIR: Final = stacks.PROJECT_DIR


def add_stack(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """`STACK` or `-s/--stack STACK` (the same value; the option wins when both are given)."""
    parser.add_argument(
        "stack_positional",
        nargs="?",
        metavar="STACK",
        help="stack name, i.e. the <name> of Pulumi.<name>.yaml (or -s/--stack)",
    )
    parser.add_argument("-s", "--stack", dest="stack_option", metavar="STACK", help="stack name")
    parser.set_defaults(stack_required=required)


def add_stack_list(
    parser: argparse.ArgumentParser,
    text: str = "stacks to check (default: every cluster stack)",
) -> None:
    """`STACK ...` and `-s/--stack STACK` (repeatable): the stacks a command covers."""
    parser.add_argument("stacks", nargs="*", metavar="STACK", help=text)
    parser.add_argument(
        "-s",
        "--stack",
        dest="stack_list",
        action="append",
        default=[],
        metavar="STACK",
        help="a stack (repeatable)",
    )


def stacks_of(args: argparse.Namespace) -> list[str]:
    """The stacks named positionally, then with -s, in the order given to each."""
    return [*args.stacks, *args.stack_list]


def stack_of(args: argparse.Namespace) -> str:
    """The stack the user named (an empty string when none was given and none is required)."""
    return str(getattr(args, "stack_option", None) or getattr(args, "stack_positional", None) or "")


def check_stack(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with a usage error naming the remedy when a required stack is missing or doubled."""
    option, positional = (
        getattr(args, "stack_option", None),
        getattr(args, "stack_positional", None),
    )
    if option and positional and option != positional:
        parser.error(f"two stacks given ({positional!r} and -s {option!r}); give one")
    if getattr(args, "stack_required", False) and not (option or positional):
        parser.error(f"name the stack: fleet {args.command} -s STACK (`fleet stacks` lists them)")


def project_dir(text: str) -> Path:
    """An argparse type: a folder holding Pulumi.yaml, else a usage error saying so."""
    folder = Path(text).expanduser()
    if not (folder / "Pulumi.yaml").is_file():
        # A folder of stack files alone: the CLI runs a stack file only beside a Pulumi.yaml, so
        # the tools say the two ways to give it one.
        stack_files = sorted(p.name for p in folder.glob("Pulumi.*.yaml"))
        if stack_files:
            raise argparse.ArgumentTypeError(
                f"{folder} holds stack files ({', '.join(stack_files)}) but no Pulumi.yaml; "
                f"copy them beside the checkout's Pulumi.yaml ({PROJECT_DIR}), for example "
                f"`cp {folder / stack_files[0]} {PROJECT_DIR}/`, and drop --project-dir; or give "
                "the folder a Pulumi.yaml that runs the checkout's program, as "
                "examples/hub/Pulumi.yaml does (`main:`)"
            )
        raise argparse.ArgumentTypeError(
            f"{folder} holds no Pulumi.yaml; give the checkout's folder (default: {PROJECT_DIR})"
        )
    return folder.resolve()


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a count of parallel runs, say)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def add_project_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project-dir",
        type=project_dir,
        default=PROJECT_DIR,
        help="folder with Pulumi.yaml, __main__.py and the Pulumi.<stack>.yaml files "
        "(default: this checkout)",
    )


# Options of `fleet up`/`preview` themselves; every other argument belongs to `pulumi`.
_OWN_WITH_VALUE: Final = ("-s", "--stack", "--project-dir")
_OWN_FLAGS: Final = ("-h", "--help")


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """(fleet's arguments, pulumi's arguments) of a passthrough subcommand, order kept.

    The stack is `-s/--stack` anywhere or the first argument; everything else, and all after
    `--`, goes to pulumi untouched (`fleet up -s staging --target URN --yes`).
    """
    ours: list[str] = []
    theirs: list[str] = []
    rest = list(argv)
    if rest and not rest[0].startswith("-"):
        ours.append(rest.pop(0))
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            theirs += rest
            break
        if arg in _OWN_WITH_VALUE:
            ours += [arg, *rest[:1]]
            rest = rest[1:]
        elif arg in _OWN_FLAGS or arg.startswith(tuple(f"{o}=" for o in _OWN_WITH_VALUE)):
            ours.append(arg)
        else:
            theirs.append(arg)
    return ours, theirs
