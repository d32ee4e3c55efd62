"""``themekit codebook …``: check, show, compare, version and import codebooks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.tree import Tree

from themekit.cli.app import _user_errors, codebook_app, err, out
from themekit.cli.options import QuietOption, out_option
from themekit.errors import OptionError


@codebook_app.command("validate")
def codebook_validate_cmd(
    file: Annotated[Path, typer.Argument(help="Codebook YAML file.")], quiet: QuietOption = False
) -> None:
    """Check a codebook and list every problem at once, with YAML paths and lines."""
    from themekit.codebook import Codebook

    with _user_errors():
        cb = Codebook.load(file)
    if not quiet:
        out.print(f"{escape(str(file))}: valid — {cb.name} {cb.version}, {len(cb.themes)} themes, {len(cb)} codes.")


@codebook_app.command("merge")
def codebook_merge_cmd(
    file: Annotated[Path, typer.Argument(help="Codebook YAML file to add the drafts to.")],
    suggestions: Annotated[Path, typer.Argument(help="suggestions.yaml written by 'themekit suggest'.")],
    pick: Annotated[str, typer.Option("--pick", help="Draft ids to add, comma-separated.")],
    theme: Annotated[str, typer.Option("--theme", help="Theme id to add them under.")],
    theme_label: Annotated[
        str | None, typer.Option(help="Label for a new theme, when --theme names one that does not exist.")
    ] = None,
    out_file: Annotated[Path | None, out_option("Write the merged codebook here (default: update FILE).")] = None,
    quiet: QuietOption = False,
) -> None:
    """Add picked draft codes to a theme; bump the minor version and write a changelog entry."""
    from themekit.codebook.edit import merge_drafts

    with _user_errors():
        result = merge_drafts(
            file,
            suggestions,
            [p.strip() for p in pick.split(",") if p.strip()],
            theme=theme,
            theme_label=theme_label,
            out=out_file,
        )
    if quiet:
        return
    created = " (new theme)" if result.new_theme else ""
    out.print(
        f"Added {', '.join(result.added)} under {escape(result.theme)}{created}; version {result.old_version} → "
        f"{result.new_version} → {escape(str(result.path))}"
    )


@codebook_app.command("diff")
def codebook_diff_cmd(
    old: Annotated[Path, typer.Argument(help="Earlier codebook YAML file.")],
    new: Annotated[Path, typer.Argument(help="Later codebook YAML file.")],
) -> None:
    """List codes added, removed, renamed, merged, moved and redefined from OLD to NEW."""
    from themekit.codebook import Codebook
    from themekit.codebook.diff import diff_codebooks

    with _user_errors():
        before, after = Codebook.load(old), Codebook.load(new)
        diff = diff_codebooks(before, after)
    out.print(
        f"{escape(before.name)} {before.version} → {after.version}: "
        + ("no code changes" if not diff else f"{len(diff.lines())} change(s)")
    )
    for line in diff.lines():
        out.print(escape(line))


@codebook_app.command("bump")
def codebook_bump_cmd(
    file: Annotated[Path, typer.Argument(help="Codebook YAML file.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Changelog note: what changed.")],
    major: Annotated[
        bool, typer.Option("--major", help="Bump the major version (codes removed or meanings changed).")
    ] = False,
    minor: Annotated[bool, typer.Option("--minor", help="Bump the minor version (codes added or refined).")] = False,
    patch: Annotated[bool, typer.Option("--patch", help="Bump the patch version (wording fixes).")] = False,
    quiet: QuietOption = False,
) -> None:
    """Bump the codebook's version and add a changelog entry (comments and layout are kept)."""
    from themekit.codebook.edit import bump_codebook

    with _user_errors():
        if sum((major, minor, patch)) != 1:
            raise OptionError("say which part to bump: exactly one of --major, --minor or --patch.")
        result = bump_codebook(file, "major" if major else "minor" if minor else "patch", message)
    if not quiet:
        out.print(
            f"{escape(str(result.path))}: version {result.old_version} → {result.new_version} — {escape(result.note)}"
        )


@codebook_app.command("show")
def codebook_show_cmd(file: Annotated[Path, typer.Argument(help="Codebook YAML file.")]) -> None:
    """Print the codebook's themes and codes as a tree."""
    from themekit.codebook import Codebook

    with _user_errors():
        cb = Codebook.load(file)
    tree = Tree(f"[bold]{escape(cb.name)}[/] {escape(cb.version)}")
    for theme in cb.themes:
        branch = tree.add(f"[bold]{escape(theme.label)}[/] [dim]({escape(theme.id)})[/]")
        nodes = {None: branch}
        for code in cb.codes_of(theme.id):
            parent = nodes[code.parent_id]
            nodes[code.id] = parent.add(
                f"{escape(code.label)} [dim]({escape(code.id)})[/]"
                f"{' [yellow](draft)[/]' if code.spec.status == 'draft' else ''} — {escape(code.spec.definition)}"
            )
    out.print(tree)


@codebook_app.command("import")
def codebook_import_cmd(
    file: Annotated[Path, typer.Argument(help="REFI-QDA codebook (.qdc) from NVivo, ATLAS.ti, MAXQDA or QualCoder.")],
    out_file: Annotated[Path, out_option("Codebook YAML file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Turn a REFI-QDA codebook (.qdc) into a themekit codebook."""
    from themekit.refi import NO_DESCRIPTION, import_qdc

    with _user_errors():
        cb = import_qdc(file, out_file, force=force)
    if not quiet:
        out.print(f"Written: {escape(str(out_file))} — {len(cb.themes)} themes, {len(cb)} codes (checked: valid).")
    undescribed = sum(1 for c in cb if c.spec.definition == NO_DESCRIPTION)
    if undescribed:
        err.print(
            f"[yellow]Note:[/] {undescribed} codes had no description; write a definition for each, semantic coding reads them."
        )
    err.print(
        "[yellow]Note:[/] keywords are empty: rule coding finds nothing until you add some, and semantic coding "
        "relies on the labels and definitions."
    )
