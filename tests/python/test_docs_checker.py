"""tests/docs/check_docs.py, the docs_links ctest, on small trees written
here: it passes a tree whose links and section references resolve, and
names the file and line of each broken link, broken anchor and bad section
reference. Needs nothing from the build."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

CHECKER = Path(__file__).resolve().parents[1] / "docs" / "check_docs.py"

README = """\
# Project

See the [guide](docs/guide.md), its [first section](docs/guide.md#section-one)
and the [second one of that name](docs/guide.md#section-one-1).
[Quick start](#quick-start) is below; [the web](https://example.org/#nowhere)
and [mail](mailto:someone@example.org) are not followed.

## Quick start

```sh
# not a heading, and [not a link](nowhere.md) either
```
"""

GUIDE = """\
# Guide

## Section one

Back to the [top](../README.md#quick-start), to [this page](#guide) and to
[a source file](../src/a.hpp). A link `[in code](missing.md)` is not a link.

## Section one

### Stepping in a loop: `sil.StepLink`

Setext heading
--------------
"""

SOURCE = """\
// The layout (docs/guide.md "Section one"), and the loop
// (docs/guide.md "Stepping in a loop: sil.StepLink"), as README.md says.
// A reference may wrap: docs/guide.md
// "Setext heading".
"""

PYTHON = '''\
"""Named in a docstring (docs/guide.md "Section one")."""
HELP = "and in a string literal (docs/guide.md \\"Guide\\")"
'''


def load_checker():
    spec = importlib.util.spec_from_file_location("check_docs", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def good_tree(root: Path) -> Path:
    return write_tree(root, {"README.md": README, "docs/guide.md": GUIDE, "src/a.hpp": SOURCE,
                             "src/b.py": PYTHON})


def run(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), str(root)], capture_output=True, text=True, timeout=60)


def problems(result: subprocess.CompletedProcess) -> list[str]:
    return result.stdout.splitlines()


def test_a_tree_whose_links_and_references_resolve_passes(tmp_path):
    result = run(good_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    # README: guide, two anchors, #quick-start; guide: top, this page, a.hpp.
    # a.hpp: three titled references and README.md; b.py: two.
    assert result.stdout == "docs_links: 7 links and 6 section references checked\n"


def test_a_link_to_a_missing_file_is_reported_with_its_line(tmp_path):
    good_tree(tmp_path)
    (tmp_path / "docs" / "guide.md").write_text(GUIDE + "\nSee [the old page](old.md).\n")
    result = run(tmp_path)
    assert result.returncode == 1
    assert problems(result) == ["docs/guide.md:15: broken link 'old.md': docs/old.md does not exist"]


def test_a_link_to_a_missing_heading_is_reported(tmp_path):
    good_tree(tmp_path)
    (tmp_path / "README.md").write_text(README.replace("#section-one-1", "#section-two"))
    result = run(tmp_path)
    assert result.returncode == 1
    [problem] = problems(result)
    assert problem.startswith("README.md:4: broken anchor 'docs/guide.md#section-two': docs/guide.md has no "
                              "heading #section-two")


def test_an_anchor_is_checked_against_the_file_it_links_to(tmp_path):
    good_tree(tmp_path)
    # #quick-start is a heading of README.md, not of the guide.
    (tmp_path / "docs" / "guide.md").write_text(GUIDE.replace("../README.md#quick-start", "#quick-start"))
    assert problems(run(tmp_path)) == [
        "docs/guide.md:5: broken anchor '#quick-start': docs/guide.md has no heading #quick-start"]


def test_a_reference_to_a_missing_heading_or_file_is_reported(tmp_path):
    good_tree(tmp_path)
    (tmp_path / "src" / "c.cpp").write_text(
        'int x;  // see docs/guide.md "Section 1"\n'
        '// and docs/gone.md "Anything"\n'
        '// and docs/guide.md "Section\n'
        '// none", wrapped\n')
    result = run(tmp_path)
    assert result.returncode == 1
    assert problems(result) == [
        'src/c.cpp:1: docs/guide.md "Section 1": docs/guide.md has no such heading (did you mean "Section one"?)',
        'src/c.cpp:2: docs/gone.md "Anything": docs/gone.md does not exist',
        'src/c.cpp:3: docs/guide.md "Section none": docs/guide.md has no such heading '
        '(did you mean "Section one"?)',
    ]


def test_the_old_readme_form_is_reported_even_where_it_resolves(tmp_path):
    good_tree(tmp_path)
    (tmp_path / "src" / "d.py").write_text('# As README "Quick start" says, and the README.\n')
    assert problems(run(tmp_path)) == [
        'src/d.py:1: old-style reference README "Quick start": name the file that holds the section, '
        'docs/<file>.md "Quick start" (or README.md)',
        "src/d.py:1: README without .md: write README.md, or the docs/ file meant",
    ]


def test_build_directories_and_other_files_are_not_scanned(tmp_path):
    good_tree(tmp_path)
    bad = 'docs/guide.md "No such heading"\n'
    write_tree(tmp_path, {"build/gen.cpp": bad, "build-asan/gen.cpp": bad, "src/notes.txt": bad,
                          "src/data.bin": "\0" + bad})
    assert run(tmp_path).returncode == 0


def test_a_missing_readme_is_reported(tmp_path):
    good_tree(tmp_path)
    (tmp_path / "README.md").unlink()
    assert "README.md:0: missing" in problems(run(tmp_path))


@pytest.mark.parametrize("heading, anchor", [
    ("Running the simulator: `sil-sim`", "running-the-simulator-sil-sim"),
    ("Telemetry in bulk: `SimClient.ingest()`", "telemetry-in-bulk-simclientingest"),
    ("Who may talk to it: `--allow CIDR`", "who-may-talk-to-it---allow-cidr"),
    ("Peers, send errors and lifecycle", "peers-send-errors-and-lifecycle"),
    ("**Bold** and _emphasis_ and snake_case", "bold-and-emphasis-and-snake_case"),
    ("[A link](elsewhere.md) in a heading", "a-link-in-a-heading"),
])
def test_anchors_are_github_slugs(heading, anchor):
    assert load_checker().slug(heading) == anchor


def test_repeated_headings_get_numbered_anchors(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# A\n\n## Notes\n\n## Notes\n\n## Notes\n")
    assert load_checker().MarkdownFile(path).anchors == {"a", "notes", "notes-1", "notes-2"}
