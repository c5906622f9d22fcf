"""The README and docs name what exists: every config key, rule, module and quoted message."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from fleet.program import conventions as c
from fleet.program.config import keys, kube_access, rules
from tests.helpers import ROOT, doc

README = (ROOT / "README.md").read_text()


def test_readme_documents_every_config_key() -> None:
    reference = doc("configuration.md")
    missing = [key for key in keys.config_keys() if f"| `{key}` |" not in reference]
    assert not missing


def test_readme_first_commands_are_make_targets_and_the_test_one_is_what_ci_runs() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    assert [cmd.split()[1] for cmd in commands if cmd.startswith("make ")] == [
        cmd.split()[1] for cmd in commands
    ], "every first-screen command is a make target"
    assert {cmd.split()[1] for cmd in commands} <= targets
    assert commands[-1] in (ROOT / ".ci" / "run").read_text()


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_settings_checks_table_lists_every_key_and_every_cross_key_check() -> None:
    table = (ROOT / "docs" / "settings-checks.md").read_text()
    assert "(docs/settings-checks.md)" in README
    missing = [key for key in keys.config_keys() if f"`{key}`" not in table]
    assert not missing
    ids = [check.__name__.removeprefix("_") for _, check in rules.CHECKS]
    assert [i for i in ids if f"| `{i}` |" not in table] == []


def test_settings_checks_table_states_the_supported_flux_minors() -> None:
    table = (ROOT / "docs" / "settings-checks.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| `fluxVersion` |"))
    first, last = min(c.SUPPORTED_FLUX_MINORS), max(c.SUPPORTED_FLUX_MINORS)
    assert f"with a supported minor: {first} to {last} " in row, row


def test_readme_first_run_quotes_messages_the_tools_print(tmp_path: Path) -> None:
    section = " ".join(doc("first-run.md").split("## First run", 1)[1].split("\n## ", 1)[0].split())
    sources = " ".join(" ".join(p.read_text().split()) for p in (ROOT / "fleet").rglob("*.py"))
    for message in (
        "the Pulumi CLI is not on PATH",
        "PULUMI_CONFIG_PASSPHRASE_FILE) is not set",
        "stores it encrypted in the stack config",
        "set the token's expiry date (YYYY-MM-DD):",
        "`make policy` (every up and preview applies the pack in policy/)",
    ):
        assert message in section, message
        assert message in sources, f"no tool prints {message!r}"
    # The kube context message as the program prints it, for the README's example kubeconfig.
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("contexts:\n  - name: prod-eu\n  - name: kind-dev\n")
    ((key, message),) = kube_access.problems(None, "staging", {"KUBECONFIG": str(kubeconfig)})
    shown = f"d1-fleet:{key}: {message}".replace(str(kubeconfig), "/home/you/.kube/config")
    assert shown in section


def test_readme_layout_names_every_module_of_the_program_and_the_tools() -> None:
    layout = doc("layout.md").split("## Repository layout", 1)[1].split("\n## ", 1)[0]
    modules = [
        p.stem
        for package in ("program", "tools", "engine", "cli")
        for p in (ROOT / "fleet" / package).rglob("*.py")
        if p.stem not in ("__init__", "__main__") and p.parent.name != "ephemeral"
    ]
    assert "load" in modules, "the walk reaches the configuration package"
    assert [m for m in modules if f"`{m}`" not in layout] == []


def test_pulumi_yaml_names_every_undeclared_secret_key() -> None:
    text = (ROOT / "Pulumi.yaml").read_text()
    comments = " ".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    assert [k for k in keys.SECRET_KEYS if k not in comments] == []
    assert [k for k in keys.SECRET_KEYS if f"d1-fleet:{k}:" in text] == []


def _anchors(text: str) -> set[str]:
    return {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#{1,4} (.+)$", text, re.M)
    }


def test_readme_is_a_front_door_that_reaches_every_docs_page() -> None:
    assert len(README.splitlines()) <= 300
    links = re.findall(r"\]\((docs/[\w.-]+\.md)(?:#([a-z0-9-]+))?\)", README)
    assert links, "the README maps the docs"
    pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    assert pages - {page for page, _ in links} == set(), "every docs page is linked"
    broken = [
        f"{page}#{anchor}"
        for page, anchor in links
        if page not in pages or (anchor and anchor not in _anchors((ROOT / page).read_text()))
    ]
    assert broken == []
    local = re.findall(r"\]\(#([a-z0-9-]+)\)", README)
    assert [a for a in local if a not in _anchors(README)] == []


def test_docs_links_between_pages_reach_a_section() -> None:
    broken = []
    for path in (ROOT / "docs").glob("*.md"):
        text = path.read_text()
        for target, anchor in re.findall(r"\]\(([\w./-]*?\.md|)(?:#([a-z0-9-]+))?\)", text):
            dest = (path.parent / target).resolve() if target else path
            if not dest.is_file():
                broken.append(f"{path.name}: {target}")
            elif anchor and anchor not in _anchors(dest.read_text()):
                broken.append(f"{path.name}: {target}#{anchor}")
    assert broken == []


def outline(text: str) -> list[tuple[int, str]]:
    """The headings a reader's table of contents shows: (level, title), fenced code left out."""
    found: list[tuple[int, str]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"^(#{1,6}) (.+)$", line)):
            found.append((len(match.group(1)), match.group(2)))
    return found


def test_every_page_has_one_title_and_no_skipped_heading_level() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        levels = [level for level, _ in outline(path.read_text())]
        assert levels[0] == 1, path.name
        assert levels.count(1) == 1, path.name
        jumps = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
        assert jumps == [], path.name


def test_the_review_comment_shown_in_the_docs_stays_out_of_their_outline() -> None:
    # The comment's own headings (## Fleet preview, ### Warnings) would read as sections of the
    # page; it is shown as its Markdown source instead.
    assert [title for level, title in outline(doc("review-and-status.md")) if level == 2] == [
        "Review gate",
        "Fleet status",
    ]
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        assert "<!-- fleet-review -->" not in _unfenced(path.read_text()), path.name


def _unfenced(text: str) -> list[str]:
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def test_every_page_a_message_points_to_has_that_section() -> None:
    # Messages name docs pages by path and anchor, so a moved section breaks this test, not the
    # reader's trust; none points at the README, which only maps the pages.
    cited: list[tuple[str, str, str]] = []
    for path in [
        *(ROOT / "fleet").rglob("*.py"),
        *(ROOT / "policy").glob("*.py"),
        ROOT / "Pulumi.yaml",
    ]:
        text = path.read_text()
        assert "README" not in text, path.relative_to(ROOT)
        cited += [
            (path.name, page, anchor)
            for page, anchor in re.findall(r"docs/([\w-]+\.md)(?:#([a-z0-9-]+))?", text)
        ]
    assert cited
    missing = [
        f"{source}: docs/{page}#{anchor}"
        for source, page, anchor in cited
        if not (ROOT / "docs" / page).is_file()
        or (anchor and anchor not in _anchors((ROOT / "docs" / page).read_text()))
    ]
    assert missing == []


def test_the_command_reference_is_what_each_command_prints_for_help() -> None:
    from tests import commands_doc  # noqa: PLC0415

    assert doc("commands.md") == commands_doc.render(), "run `python -m tests.commands_doc`"
