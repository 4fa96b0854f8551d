"""Reference tables: speed figures measured elsewhere, by someone else, shipped with the app.

A reference table is not a :class:`~gpuviz.model.speed.BenchResults`: nothing in it
was measured by gpuviz, on this machine or any other, and its workload is not one
of the benchmark's ops. It is shown *beside* this machine's figures, labelled with
who measured it, where and when, and never merged into them (no shared axis, no
ratio across the two). The lecture's CPU-vs-GPU table is the first one
(``assets/reference/lecture-cifar10-cpu-vs-gpu.toml``).

The file format is TOML (``format = "gpuviz-reference"``, ``version = 1``)::

    title = "Training a CNN on CIFAR-10: CPU vs GPU"
    quantity = "examples per second"
    higher_is_better = true
    workload = "..."            # what was measured, in words
    measured_by = "..."         # who
    where = "..."               # on what
    when = ""                   # empty when the source does not say: never guessed
    source = "..."              # the publication, as a reader would find it
    url = "..."
    cited_in = "..."            # where the lecture quotes it (optional)

    [[rows]]
    device = "GeForce 1070"
    kind = "GPU"                # "CPU" or "GPU"
    value = 6500
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

from ..paths import assets_dir
from .speed import BenchResults, SpeedError

FORMAT = "gpuviz-reference"
FORMAT_VERSION = 1
KINDS = ("CPU", "GPU")
#: The folder of shipped reference tables, under the app's assets.
FOLDER = "reference"
#: The lecture's CPU-vs-GPU table.
LECTURE_TABLE = "lecture-cifar10-cpu-vs-gpu.toml"
#: The folder of benchmark results the app ships (gpuviz's own measurements, each file naming its machine and
#: date): the speed presets' figures, and GPU runs saved by ``scripts/gpu_check.py --save`` when a GPU was at hand.
RESULTS_FOLDER = "results"

_TEXT_KEYS = ("title", "quantity", "workload", "measured_by", "where", "when", "source", "url", "cited_in")
_KEYS = ("format", "version", "higher_is_better", "rows", *_TEXT_KEYS)


@dataclass(frozen=True)
class ReferenceRow:
    """One device's figure in a reference table.

    Attributes
    ----------
    device : str
        As the source names it, e.g. ``"GeForce 940MX"``.
    kind : str
        ``"CPU"`` or ``"GPU"``.
    value : float
        In the table's ``quantity``.
    """

    device: str
    kind: str
    value: float


@dataclass(frozen=True)
class ReferenceTable:
    """Figures measured elsewhere, with who measured them, where, when and the source.

    Attributes
    ----------
    title, quantity : str
        What the table shows, e.g. ``"examples per second"``.
    rows : tuple of ReferenceRow
        In the source's order.
    workload : str
        What was timed: never one of this app's benchmark ops.
    measured_by, where, source, url : str
    when : str
        Empty when the source does not date the figures.
    cited_in : str
        Where the lecture quotes the table (may be empty).
    higher_is_better : bool
    path : str
        The file it was read from (empty when built in code).
    """

    title: str
    quantity: str
    rows: tuple
    workload: str
    measured_by: str
    where: str
    when: str
    source: str
    url: str
    cited_in: str = ""
    higher_is_better: bool = True
    path: str = ""

    def label(self) -> str:
        """One line for beside the figure: who measured it and when, and that it was not here."""
        when = self.when or "date not stated"
        return f"Measured elsewhere by {self.measured_by} ({when}), not on this machine: {self.source}"

    def source_lines(self) -> list[str]:
        """Every line of provenance, for a caption or an export's footer."""
        lines = [self.label(), f"Workload: {self.workload}.", f"Where: {self.where}."]
        if self.cited_in:
            lines.append(f"Quoted in {self.cited_in}.")
        if self.url:
            lines.append(self.url)
        return lines

    def by_kind(self, kind: str) -> list[ReferenceRow]:
        return [r for r in self.rows if r.kind == kind]

    def best(self, kind: str) -> ReferenceRow | None:
        """The fastest device of one kind (by ``higher_is_better``), or None."""
        rows = self.by_kind(kind)
        if not rows:
            return None
        return max(rows, key=lambda r: r.value if self.higher_is_better else -r.value)

    @classmethod
    def from_dict(cls, data, path: str = "") -> ReferenceTable:
        """A table from its TOML's dict; :class:`~gpuviz.model.speed.SpeedError` (one sentence) when malformed."""
        name = Path(path).name if path else "a reference table"
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SpeedError(f"{name} is not a gpuviz reference table (format {FORMAT!r} expected)")
        if data.get("version") != FORMAT_VERSION:
            raise SpeedError(f"{name} has version {data.get('version')!r}; this gpuviz reads version {FORMAT_VERSION}")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise SpeedError(f"{name} has unknown keys: {', '.join(unknown)}")
        text = {}
        for key in _TEXT_KEYS:
            value = data.get(key, "")
            if not isinstance(value, str):
                raise SpeedError(f"{name}: {key} must be text, got {value!r}")
            text[key] = value.strip()
        for key in ("title", "quantity", "workload", "measured_by", "where", "source"):
            if not text[key]:
                raise SpeedError(f"{name} must say its {key.replace('_', ' ')}: a figure without it cannot be shown")
        raw_rows = data.get("rows")
        if not isinstance(raw_rows, list) or not raw_rows:
            raise SpeedError(f"{name} needs at least one [[rows]] entry")
        rows = []
        for i, row in enumerate(raw_rows, 1):
            if not isinstance(row, dict) or set(row) != {"device", "kind", "value"}:
                raise SpeedError(f"{name}: row {i} needs exactly device, kind and value")
            if row["kind"] not in KINDS:
                raise SpeedError(f"{name}: row {i}'s kind must be CPU or GPU, got {row['kind']!r}")
            value = row["value"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise SpeedError(f"{name}: row {i}'s value must be a positive number, got {value!r}")
            if not isinstance(row["device"], str) or not row["device"].strip():
                raise SpeedError(f"{name}: row {i} must name its device")
            rows.append(ReferenceRow(row["device"].strip(), row["kind"], float(value)))
        higher = data.get("higher_is_better", True)
        if not isinstance(higher, bool):
            raise SpeedError(f"{name}: higher_is_better must be true or false")
        return cls(rows=tuple(rows), higher_is_better=higher, path=str(path), **text)

    @classmethod
    def load(cls, path) -> ReferenceTable:
        """Read a table file; :class:`~gpuviz.model.speed.SpeedError` (one sentence) when it cannot be."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise SpeedError(f"cannot read {path}: {e.strerror or e}") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise SpeedError(f"{path.name} is not a TOML file ({e})") from None
        return cls.from_dict(data, str(path))


def shipped_tables() -> list[ReferenceTable]:
    """Every reference table the app ships, by file name."""
    folder = assets_dir() / FOLDER
    return [ReferenceTable.load(p) for p in sorted(folder.glob("*.toml"))]


def shipped_results() -> list[BenchResults]:
    """Every benchmark results file the app ships (measured by gpuviz, each labelled with its machine and date)."""
    folder = assets_dir() / RESULTS_FOLDER
    return [BenchResults.load(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def shipped_gpu_results() -> list[BenchResults]:
    """The shipped results measured on a CUDA GPU (none until someone runs gpu_check.py --save on one)."""
    return [r for r in shipped_results() if r.machine.gpu]


def lecture_table() -> ReferenceTable:
    """The lecture's CPU-vs-GPU table (CIFAR-10 training, examples per second)."""
    return ReferenceTable.load(assets_dir() / FOLDER / LECTURE_TABLE)


__all__ = ["FORMAT", "KINDS", "LECTURE_TABLE", "RESULTS_FOLDER", "ReferenceRow", "ReferenceTable", "lecture_table",
           "shipped_gpu_results", "shipped_results", "shipped_tables"]
