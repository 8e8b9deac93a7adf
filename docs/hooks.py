"""MkDocs hooks: generate the parts of the site that must not be retyped.

Registered in ``mkdocs.yml`` (``hooks: [docs/hooks.py]``).  At build time they

* add ``evidence/benchmark.md`` — the newest committed benchmark report
  ``benchmarks/results/<date>-<corpus>/report.md`` (``-quick`` runs skipped) — and its PNG plots;
* add ``evidence/students.md`` — the newest ``benchmarks/results/audit-students-<corpus>.md``;
* replace ``<!-- gen:NAME -->`` placeholders in pages with tables computed from the package
  (style markers, built-in models, CLI help) or cut from the newest report (headline tables).

A new report committed under ``benchmarks/results/`` is therefore picked up by the next build.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import posixpath
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
_REPORT_DIR = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_PLACEHOLDER = re.compile(r"<!-- gen:([a-z0-9-]+) -->")

# Sections of the report shown on the method page, in this order (all present in the report
# written by benchmarks/run.py; a section missing from a future report is skipped).
HEADLINE_SECTIONS = ("Per text", "Pooled attribution", "Peers, same run", "Against the stretch targets")

for _k, _v in {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0"}.items():
    os.environ.setdefault(_k, _v)
if str(ROOT) not in sys.path:  # document the checkout the site is built from
    sys.path.insert(0, str(ROOT))


# -- locating the committed reports ------------------------------------------------------
def latest_report_dir(results: Path = RESULTS) -> Path:
    """Newest ``<date>-<corpus>`` directory with a ``report.md`` (``-quick`` runs are skipped)."""
    found = []
    for d in results.iterdir() if results.is_dir() else ():
        m = _REPORT_DIR.match(d.name)
        if m and d.is_dir() and not d.name.endswith("-quick") and (d / "report.md").is_file():
            found.append((m.group(1), d.name, d))
    if not found:
        raise FileNotFoundError(f"no benchmark report under {results} (expected <date>-<corpus>/report.md)")
    return max(found)[2]


def latest_students_report(results: Path = RESULTS) -> Path:
    """Newest ``audit-students-<corpus>.md``: by the date in its title, then by modification time."""

    def key(p: Path) -> tuple[str, float, str]:
        m = re.search(r"\d{4}-\d{2}-\d{2}", p.read_text(encoding="utf-8").partition("\n")[0])
        return (m.group(0) if m else "", p.stat().st_mtime, p.name)

    found = sorted(results.glob("audit-students-*.md"), key=key)
    if not found:
        raise FileNotFoundError(f"no audit-students-*.md under {results}")
    return found[-1]


def _sections(markdown: str) -> dict[str, str]:
    """``## Heading`` -> section text (heading included) of a report."""
    out: dict[str, str] = {}
    for part in re.split(r"(?m)^(?=## )", markdown):
        if part.startswith("## "):
            title = part.splitlines()[0][3:].strip()
            out[title] = part.rstrip() + "\n"
            for key in HEADLINE_SECTIONS:  # "Pooled attribution (N texts ...)" -> "Pooled attribution"
                if title.startswith(key):
                    out[key] = out[title]
    return out


def _rewrite_images(markdown: str, prefix: str) -> str:
    return re.sub(r"\]\(([^)/:]+\.png)\)", lambda m: f"]({prefix}{m.group(1)})", markdown)


# -- generated tables -----------------------------------------------------------------
class Raw(str):
    """A table cell that is already Markdown (not escaped)."""


def _cell(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return html.escape(text, quote=False).replace("|", "&#124;").replace("`", "&#96;").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


MARKER_EXAMPLES = (
    "Certainly! Here is a short overview:\n\n- **Speed**: fast\n- **Cost**: low\n\nI hope this helps!",
    "As an AI language model developed by OpenAI, I don't have personal opinions. "
    "However, it's worth noting that opinions differ; consult a professional.",
)


def style_marker_table() -> str:
    import fingerprint as fp
    from fingerprint.features.style import MARKERS

    values = fp.StyleMarkers().fit_transform(list(MARKER_EXAMPLES))
    rows = []
    for j, m in enumerate(MARKERS):
        # descriptions quote markdown syntax ("**…**", "[text](url)"): show it, do not render it
        what = Raw(re.sub(r"([*_\[\]])", r"\\\1", _cell(m.description)))
        rows.append([Raw(f"`{m.name}`"), what, m.unit] + [f"{values[i, j]:.3g}" for i in range(2)])
    table = _table(["marker", "what it measures", "unit", "example A", "example B"], rows)
    intro = "Raw values on two example texts (before the feature space standardises them):\n\n"
    intro += "".join(f"* **{k}**: `{t!r}`\n" for k, t in zip("AB", MARKER_EXAMPLES, strict=True))
    note = f"*{len(MARKERS)} markers, from the marker table `fingerprint.features.style.MARKERS` at build time.*"
    return f"{intro}\n{table}\n{note}\n"


def builtin_models_table() -> str:
    from fingerprint import references

    df = references.info()
    return _table(list(df.columns), df.astype(object).values.tolist())


def builtin_metadata() -> str:
    from fingerprint import references

    meta = dict(references.builtin().metadata)
    sources = meta.pop("sources", {}) or {}
    calib = meta.pop("calibration", None)
    rows: list[list[Any]] = [
        [Raw(f"`{k}`"), ", ".join(map(str, v)) if isinstance(v, list) else v] for k, v in meta.items()
    ]
    if calib:
        rows.append([Raw("`calibration`"), ", ".join(f"{k}={v}" for k, v in calib.items())])
    out = _table(["field", "value"], rows)
    if sources:
        out += "\nUpstream sources recorded in the index:\n\n" + _table(
            ["source", "value"], [[k, v] for k, v in (sources.items() if isinstance(sources, dict) else [])]
        )
    return out


def cli_help() -> str:
    from fingerprint import cli

    def run(argv: list[str]) -> str:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
            cli.main(argv)
        return buf.getvalue().rstrip()

    parts = ["```console\n$ fingerprint --help\n" + run(["--help"]) + "\n```\n"]
    for cmd in ("build", "attribute", "audit", "probe", "inspect", "demo"):
        usage = run([cmd, "--help"])
        parts.append(f"### `fingerprint {cmd}`\n\n```console\n$ fingerprint {cmd} --help\n{usage}\n```\n")
    return "\n".join(parts)


def benchmark_headline(page_dir: str) -> str:
    d = latest_report_dir()
    secs = _sections((d / "report.md").read_text(encoding="utf-8"))
    prefix = posixpath.relpath("evidence", page_dir or ".") + "/"
    body = []
    for key in HEADLINE_SECTIONS:
        if key in secs:
            body.append(_rewrite_images(secs[key].replace("## ", "### ", 1), prefix))
    link = posixpath.relpath("evidence/benchmark.md", page_dir or ".")
    head = (
        f'!!! info "Pulled from `benchmarks/results/{d.name}/report.md` when the site was built"\n'
        f"    The newest committed benchmark report; the [whole report]({link}) has every table and plot.\n\n"
    )
    return head + "\n".join(body)


def students_table() -> str:
    p = latest_students_report()
    text = p.read_text(encoding="utf-8")
    table = "\n".join(line for line in text.splitlines() if line.startswith("|"))
    return f'!!! info "Pulled from `benchmarks/results/{p.name}` when the site was built"\n\n{table}\n'


GENERATORS = {
    "style-markers": lambda page_dir: style_marker_table(),
    "builtin-models": lambda page_dir: builtin_models_table(),
    "builtin-metadata": lambda page_dir: builtin_metadata(),
    "cli-help": lambda page_dir: cli_help(),
    "benchmark-headline": benchmark_headline,
    "students-table": lambda page_dir: students_table(),
    "report-dir": lambda page_dir: f"`benchmarks/results/{latest_report_dir().name}/`",
}


# -- MkDocs events -----------------------------------------------------------------------
def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    d = latest_report_dir()
    report = d / "report.md"
    note = (
        f'!!! info "Generated from `benchmarks/results/{d.name}/report.md`"\n'
        f"    The newest committed report, copied verbatim when the site was built "
        f"(`python benchmarks/run.py` writes it; see [how it works](../method.md)).\n\n"
    )
    text = report.read_text(encoding="utf-8")
    title, _, rest = text.partition("\n")
    files.append(File.generated(config, "evidence/benchmark.md", content=f"{title}\n\n{note}{rest}"))
    for f in sorted(d.iterdir()):  # plots, report.json: whatever the report links to
        if f.is_file() and f.name != "report.md":
            files.append(File.generated(config, f"evidence/{f.name}", abs_src_path=str(f)))

    s = latest_students_report()
    text = s.read_text(encoding="utf-8")
    title, _, rest = text.partition("\n")
    note = (
        f'!!! info "Generated from `benchmarks/results/{s.name}`"\n'
        f"    Written by `python benchmarks/audit_students.py`; copied verbatim when the site was built. "
        f"How to read it: [limits](../limits.md#how-to-read-a-verdict).\n\n"
    )
    files.append(File.generated(config, "evidence/students.md", content=f"{title}\n\n{note}{rest}"))

    for name, page, script in VERBATIM:  # further benchmark reports, each as one evidence page
        src = ROOT / "benchmarks" / "results" / name
        title, _, rest = src.read_text(encoding="utf-8").partition("\n")
        note = (
            f'!!! info "Generated from `benchmarks/results/{name}`"\n'
            f"    Written by `python {script}`; copied verbatim when the site was built. "
            f"How to read it: [limits](../limits.md#how-to-read-a-verdict).\n\n"
        )
        files.append(File.generated(config, f"evidence/{page}", content=f"{title}\n\n{note}{rest}"))
    return files


#: (report under benchmarks/results/, evidence page, the script that writes it)
VERBATIM = (
    ("audit-lineage.md", "lineage.md", "benchmarks/audit_lineage.py"),
    ("example-deepseek.md", "example-deepseek.md", "benchmarks/example_deepseek.py"),
    ("audit-validity.md", "validity.md", "benchmarks/audit_validity.py"),
    ("builtin-set.md", "builtin-set.md", "benchmarks/builtin_set.py"),
    ("speed.md", "speed.md", "benchmarks/speed.py"),
    ("calibration-shift.md", "calibration-shift.md", "benchmarks/calibration_shift.py"),
    ("baseline-c.md", "baseline-c.md", "benchmarks/baseline_c.py"),
)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    page_dir = posixpath.dirname(page.file.src_uri)

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in GENERATORS:
            raise KeyError(f"{page.file.src_uri}: unknown placeholder <!-- gen:{name} -->; known: {sorted(GENERATORS)}")
        return GENERATORS[name](page_dir)

    return _PLACEHOLDER.sub(fill, markdown)


def on_post_build(config: Any) -> None:
    """Check the links of executed notebooks, which MkDocs does not validate (they are HTML)."""
    site = Path(config["site_dir"])
    broken = []
    for page in site.glob("examples/**/index.html"):
        for href in re.findall(r'href="([^"#:?]+)(?:#[^"]*)?"', page.read_text(encoding="utf-8")):
            target = (page.parent / href).resolve()
            if not (target.is_file() or (target / "index.html").is_file()):
                broken.append(f"{page.relative_to(site)}: {href}")
    if broken:
        hint = "link to the built URL, e.g. ../../limits/"
        raise ValueError(f"broken links in executed notebooks ({hint}):\n  " + "\n  ".join(broken))


# -- griffe extension: Sphinx roles in docstrings -> mkdocstrings cross-references -------------
# The package's docstrings use Sphinx roles (:class:`FeatureSpace`, :meth:`save`), which `help()`
# shows fine but Markdown would print verbatim. mkdocstrings loads this class (mkdocs.yml:
# `extensions: [docs/hooks.py:SphinxRoles]`) and rewrites each role, on the loaded docstrings only,
# into a link to the object when the API page renders it, else into plain code.
_ROLE = re.compile(r":(class|meth|func|data|attr|mod|obj|exc):`(~?)([\w.]+?)(?:\(\))?`")


def _rendered_paths(api_page: Path = ROOT / "docs" / "api.md") -> tuple[set[str], dict[str, set[str]]]:
    """Objects rendered on the API page: ``::: path`` roots, and explicit member lists."""
    text = api_page.read_text(encoding="utf-8")
    roots = set(re.findall(r"^::: ([\w.]+)\s*$", text, re.MULTILINE))
    members = {
        m.group(1): {x.strip() for x in m.group(2).split(",")}
        for m in re.finditer(r"^::: ([\w.]+)\n(?:[ \t]+.*\n)*?[ \t]+members: \[([^\]]*)\]", text, re.MULTILINE)
    }
    return roots, members


try:
    import griffe as _griffe
except ImportError:  # only needed when mkdocstrings builds the site
    _griffe = None

if _griffe is not None:

    class SphinxRoles(_griffe.Extension):
        """Turn Sphinx roles into autorefs links (rendered objects) or code (anything else)."""

        def on_package(self, *, pkg: Any, loader: Any, **kwargs: Any) -> None:
            roots, explicit = _rendered_paths()

            def rendered(path: str) -> bool:
                if path in roots:
                    return True
                parent, _, name = path.rpartition(".")
                if parent in explicit:
                    return name in explicit[parent]
                if parent in roots and not name.startswith("_"):
                    try:
                        return bool(pkg[parent.removeprefix(pkg.path + ".")].is_class)
                    except (KeyError, ValueError):
                        return False
                return False

            def resolve(obj: Any, name: str, role: str) -> str | None:
                scope = obj
                while scope is not None:
                    if role in ("func", "data", "mod") and (scope.is_class or scope.is_function):
                        scope = scope.parent  # module-level names: skip a class's own members
                        continue
                    try:
                        target = scope[name]
                    except Exception:  # not found in this scope (or an unresolvable alias): look further out
                        scope = scope.parent
                        continue
                    return str(target.target_path if target.is_alias else target.path)
                if name.startswith(pkg.path + "."):
                    return name
                return None

            def rewrite(obj: Any) -> None:
                if obj.is_alias:
                    return
                if obj.docstring is not None and ":`" in obj.docstring.value:

                    def sub(m: re.Match[str]) -> str:
                        role, tilde, name = m.groups()
                        shown = name.rsplit(".", 1)[-1] if tilde else name
                        path = resolve(obj, name, role)
                        return f"[`{shown}`][{path}]" if path and rendered(path) else f"`{shown}`"

                    obj.docstring.value = _ROLE.sub(sub, obj.docstring.value)
                for member in obj.members.values():
                    rewrite(member)

            rewrite(pkg)
