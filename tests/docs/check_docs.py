#!/usr/bin/env python3
"""Checks that the documentation holds together.

    check_docs.py [ROOT]      (ROOT: the repository, default: the current directory)

1. Links. In README.md and every docs/**/*.md, each relative link
   ([text](path), [text](path#anchor), [text](#anchor), and reference
   definitions [label]: path) must point at a file or directory that exists,
   relative to the linking file (a leading / means the repository root),
   and an anchor into a Markdown file must be the GitHub-style id of one of
   its headings (lowercase, punctuation other than - and _ dropped, spaces
   as -, -1, -2, ... for repeated headings). Links with a scheme (https:,
   mailto:, ...) are not followed; nothing inside code spans or fenced code
   blocks counts. Headings are ATX (# Title) and setext (Title over === or
   ---) headings outside fenced code blocks.

2. References in the sources. In every tracked source file (C++, Python,
   protobuf, CMake, Makefile, *.in, Lua, and scripts with a #! line), a
   section is named as a repository-relative path, a space and the heading
   in double quotes, e.g. docs/wire-format.md "Bundles". The file must exist
   and have a heading whose text, with Markdown code and emphasis marks
   removed, is exactly the quoted title. A reference may wrap onto the next
   comment line. A bare mention of a docs file (README.md, docs/...) must
   name a file that exists. The word README without .md is an error: the
   old form named sections of a README that no longer holds them, and one
   form is easier to check and to grep for.

Every problem is printed as file:line: message, and the exit status is 1.
Otherwise one line says how much was checked, and the exit status is 0.
Standard library only; run it with any Python 3.9 or later.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
import unicodedata
import urllib.parse
from pathlib import Path

# The checker and its test spell out bad references on purpose.
SELF = {"tests/docs/check_docs.py", "tests/python/test_docs_checker.py"}

SOURCE_SUFFIXES = {".hpp", ".cpp", ".h", ".hh", ".cc", ".py", ".proto", ".cmake", ".in", ".lua", ".sh"}
SOURCE_NAMES = {"CMakeLists.txt", "Makefile"}
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", "node_modules"}

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
NOT_PARAGRAPH = re.compile(r"^(?: {4}|\t| {0,3}(?:[>|#]|[-+*][ \t]|\d+[.)][ \t]))")
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)
# [text](destination "optional title"), text with one level of nested brackets.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*\]"
    r"\(\s*(<[^<>\n]*>|(?:[^\s()\\]|\\.|\([^\s()]*\))*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"
)
REF_DEFINITION = re.compile(r"^ {0,3}\[(?!\^)(?:[^\[\]\\]|\\.)+\]:[ \t]*(<[^<>\n]*>|\S+)")
SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")

MD_PATH = r"(?<![\w./-])((?:\.{1,2}/)?(?:[\w.-]+/)*[\w.-]+\.md)(?![\w/-])"
# The quotes may be escaped, as inside a C++ or Python string literal.
SECTION_REF = re.compile(MD_PATH + r"[ \t]+\\?\"([^\"\n\\]+)\\?\"")
FILE_REF = re.compile(MD_PATH)
OLD_README = re.compile(r"(?<![\w./-])README(?!\.\w)(?![\w-])")
OLD_TITLE = re.compile(r"[ \t]*[:,]?[ \t]*(?:[\w ]+:[ \t]*)?\\?\"([^\"\n\\]+)\\?\"")
COMMENT_LEAD = re.compile(r"^\s*(?://+|#+|\*+|--+|;+)?\s*")


def plain_text(markdown: str, collapse: bool = True) -> str:
    """Heading text as GitHub renders it: code without backticks, link text
    without the link, no emphasis marks, no HTML tags. With collapse, runs
    of whitespace become one space (for comparing titles)."""
    parts = []
    last = 0
    for span in CODE_SPAN.finditer(markdown):
        parts.append(_plain_inline(markdown[last:span.start()]))
        parts.append(span.group(2).strip() if span.group(2).strip() else span.group(2))
        last = span.end()
    parts.append(_plain_inline(markdown[last:]))
    text = "".join(parts).strip()
    return " ".join(text.split()) if collapse else text


def _plain_inline(text: str) -> str:
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^<>]+>", "", text)
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    text = text.replace("*", "")
    return re.sub(r"(?<![^\W_])_+|_+(?![^\W_])", "", text)


def slug(heading: str) -> str:
    """The id GitHub gives a heading: lowercase; letters, marks, digits,
    connector punctuation (_), hyphens and spaces kept; spaces as hyphens."""
    text = plain_text(heading, collapse=False).lower()
    kept = (ch for ch in text if ch in "- " or unicodedata.category(ch)[0] in "LMN" or unicodedata.category(ch) == "Pc")
    return "".join(kept).replace(" ", "-")


class MarkdownFile:
    """The headings of one Markdown file, and its lines outside fenced code."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        self.headings: list[tuple[int, str]] = []  # (line number, raw heading text)
        self.in_fence = [False] * len(self.lines)
        fence = None
        previous_paragraph = False
        for index, line in enumerate(self.lines):
            if fence is not None:
                self.in_fence[index] = True
                closing = FENCE.match(line)
                if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence) \
                        and not line.strip().strip(fence[0]):
                    fence = None
                previous_paragraph = False
                continue
            opening = FENCE.match(line)
            if opening and not (opening.group(1)[0] == "`" and "`" in line[opening.end():]):
                fence = opening.group(1)
                self.in_fence[index] = True
                previous_paragraph = False
                continue
            atx = ATX.match(line)
            if atx:
                self.headings.append((index + 1, atx.group(2) or ""))
                previous_paragraph = False
                continue
            if previous_paragraph and SETEXT.match(line):
                self.headings.append((index, self.lines[index - 1].strip()))
                previous_paragraph = False
                continue
            previous_paragraph = bool(line.strip()) and not NOT_PARAGRAPH.match(line)
        self.anchors = set()
        for _, text in self.headings:
            base = slug(text)
            anchor, n = base, 0
            while anchor in self.anchors:
                n += 1
                anchor = f"{base}-{n}"
            self.anchors.add(anchor)
        self.titles = {plain_text(text) for _, text in self.headings}

    def blocks(self):
        """Runs of consecutive non-blank lines outside fences: (first line number, text)."""
        start, block = None, []
        for index, line in enumerate(self.lines + [""]):
            if index < len(self.lines) and not self.in_fence[index] and line.strip():
                if start is None:
                    start = index + 1
                block.append(line)
            elif block:
                yield start, "\n".join(block)
                start, block = None, []


class Checker:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.problems: list[str] = []
        self.links = 0
        self.references = 0
        self._markdown: dict[Path, MarkdownFile] = {}

    def report(self, path: Path, line: int, message: str) -> None:
        self.problems.append(f"{self.relative(path)}:{line}: {message}")

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def markdown(self, path: Path) -> MarkdownFile:
        if path not in self._markdown:
            self._markdown[path] = MarkdownFile(path)
        return self._markdown[path]

    def inside(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    # 1. Links in the docs

    def docs_files(self) -> list[Path]:
        files = [self.root / "README.md"]
        docs = self.root / "docs"
        if docs.is_dir():
            files += sorted(p for p in docs.rglob("*.md") if p.is_file())
        return files

    def check_docs(self) -> None:
        readme = self.root / "README.md"
        if not readme.is_file():
            self.problems.append("README.md:0: missing")
        for path in self.docs_files():
            if path.is_file():
                self.check_links(path)

    def check_links(self, path: Path) -> None:
        doc = self.markdown(path)
        for first_line, block in doc.blocks():
            code_free = CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), block)
            for match in INLINE_LINK.finditer(code_free):
                self.check_link(path, first_line + code_free.count("\n", 0, match.start()), match.group(1))
            for offset, line in enumerate(code_free.split("\n")):
                definition = REF_DEFINITION.match(line)
                if definition:
                    self.check_link(path, first_line + offset, definition.group(1))

    def check_link(self, path: Path, line: int, destination: str) -> None:
        destination = destination.strip()
        if destination.startswith("<") and destination.endswith(">"):
            destination = destination[1:-1]
        if SCHEME.match(destination):
            return
        self.links += 1
        if not destination:
            self.report(path, line, "empty link")
            return
        target_part, _, anchor = destination.partition("#")
        target_part = urllib.parse.unquote(target_part.split("?", 1)[0])
        anchor = urllib.parse.unquote(anchor)
        if not target_part:
            target = path
        elif target_part.startswith("/"):
            target = Path(os.path.normpath(self.root / target_part.lstrip("/")))
        else:
            target = Path(os.path.normpath(path.parent / target_part))
        if not self.inside(target):
            self.report(path, line, f"link {destination!r} leaves the repository")
            return
        if not target.exists():
            self.report(path, line, f"broken link {destination!r}: {self.relative(target)} does not exist")
            return
        if not anchor or target.suffix.lower() != ".md" or not target.is_file():
            return
        anchors = self.markdown(target).anchors
        if anchor not in anchors:
            near = difflib.get_close_matches(anchor, sorted(anchors), n=1)
            hint = f" (did you mean #{near[0]}?)" if near else ""
            self.report(path, line, f"broken anchor {destination!r}: {self.relative(target)} has no heading "
                                    f"#{anchor}{hint}")

    # 2. References to docs sections in the sources

    def source_files(self) -> list[Path]:
        names = self.git_files()
        if names is None:
            names = []
            for directory, subdirs, files in os.walk(self.root):
                subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS and not d.startswith("build"))
                rel = Path(directory).relative_to(self.root)
                names += [(rel / name).as_posix() for name in sorted(files)]
        chosen = []
        for name in sorted(set(names)):
            parts = name.split("/")
            if name in SELF or any(p in SKIP_DIRS or p.startswith("build") for p in parts[:-1]):
                continue
            path = self.root / name
            if path.is_file() and not path.is_symlink() and self.is_source(path):
                chosen.append(path)
        return chosen

    def git_files(self) -> list[str] | None:
        """Tracked and new (not ignored) files, when ROOT is the top of a git
        checkout; None otherwise."""
        def git(*args: str) -> bytes:
            return subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, check=True).stdout

        try:
            top = git("rev-parse", "--show-toplevel").decode().strip()
            if not top or Path(top).resolve() != self.root:
                return None
            listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        except (OSError, subprocess.CalledProcessError):
            return None
        return [name for name in listed.decode("utf-8", "replace").split("\0") if name]

    @staticmethod
    def is_source(path: Path) -> bool:
        if path.suffix in SOURCE_SUFFIXES or path.name in SOURCE_NAMES:
            return True
        if path.suffix:
            return False
        try:
            with path.open("rb") as f:
                return f.read(2) == b"#!"
        except OSError:
            return False

    def check_sources(self) -> None:
        for path in self.source_files():
            data = path.read_bytes()
            if b"\0" in data[:8192]:
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            self.check_source(path, text.splitlines())

    def check_source(self, path: Path, lines: list[str]) -> None:
        for index, line in enumerate(lines):
            following = COMMENT_LEAD.sub("", lines[index + 1]) if index + 1 < len(lines) else ""
            joined = f"{line} {following}" if following else line
            titled_paths = set()
            for match in SECTION_REF.finditer(joined):
                if match.start() >= len(line):
                    break
                titled_paths.add(match.start())
                self.references += 1
                self.check_section(path, index + 1, match.group(1), " ".join(match.group(2).split()))
            for match in FILE_REF.finditer(line):
                name = match.group(1)
                if match.start() in titled_paths or not (name == "README.md" or name.startswith("docs/")):
                    continue
                self.references += 1
                if not (self.root / name).is_file():
                    self.report(path, index + 1, f"{name} does not exist")
            for match in OLD_README.finditer(line):
                titled = OLD_TITLE.match(joined, match.end())
                if titled:
                    title = " ".join(titled.group(1).split())
                    self.report(path, index + 1, f'old-style reference README "{title}": name the file that '
                                                 f'holds the section, docs/<file>.md "{title}" (or README.md)')
                else:
                    self.report(path, index + 1, "README without .md: write README.md, or the docs/ file meant")

    def check_section(self, path: Path, line: int, name: str, title: str) -> None:
        target = Path(os.path.normpath(self.root / name))
        if not self.inside(target) or not target.is_file():
            self.report(path, line, f'{name} "{title}": {name} does not exist')
            return
        titles = self.markdown(target).titles
        if title not in titles:
            near = difflib.get_close_matches(title, sorted(titles), n=1)
            hint = f' (did you mean "{near[0]}"?)' if near else ""
            self.report(path, line, f'{name} "{title}": {name} has no such heading{hint}')


def main(argv: list[str]) -> int:
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    root = Path(argv[1] if len(argv) == 2 else ".")
    if not root.is_dir():
        print(f"check_docs: {root} is not a directory", file=sys.stderr)
        return 2
    checker = Checker(root)
    checker.check_docs()
    checker.check_sources()
    for problem in checker.problems:
        print(problem)
    if checker.problems:
        print(f"docs_links: {len(checker.problems)} problem(s) in {checker.links} links and "
              f"{checker.references} section references", file=sys.stderr)
        return 1
    print(f"docs_links: {checker.links} links and {checker.references} section references checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
