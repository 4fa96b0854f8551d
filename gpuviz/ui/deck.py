"""Decks: every key step of many scenarios exported into one folder, with an index of what is where.

``gpuviz export --deck`` parses its arguments and hands the scenarios to
:func:`export_deck`; a lecturer rebuilds all the slides' pictures after a change
with one command. Each picture goes through :func:`gpuviz.ui.export.export_panel`
(a fresh offscreen panel, an atomic write), so a deck is exactly the pictures the
single-picture export would give, one file per scenario and step::

    DIR/01-lecture-grid/step-000.png
    DIR/01-lecture-grid/step-031.png
    ...
    DIR/index.md

A broadcast quiz question gives two pictures instead, ``question.png`` (the shapes as the class
sees them, the answer concealed) and ``answer.png`` (NumPy's steps at the last one, the verdict in
large type). A scenario that cannot be read or drawn is reported (in the progress and in the
index) and the deck goes on with the others.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..model import registry as models
from ..model.panel import ParamsError
from ..model.scenario import Scenario, ScenarioError, find_preset, load_presets, load_scenario, presets_dir
from .export import ExportError, check_size, export_panel, write_atomic

#: Picture formats a deck writes (a deck of GIFs would animate every step, not the key steps).
DECK_FORMATS = ("png", "svg")
#: ``--deck all``: every shipped preset.
ALL_PRESETS = "all"


class DeckError(ValueError):
    """A deck request that cannot start (an argument names nothing, the folder is unusable); one sentence."""


@dataclass(frozen=True)
class DeckFailure:
    """A scenario file or a picture that could not be made, and why (one sentence)."""

    name: str
    message: str
    step: int | None = None


@dataclass(frozen=True)
class DeckPicture:
    """One picture of a deck: a scenario shown at one step.

    Parameters
    ----------
    scenario : Scenario
        What to show.
    name : str
        The scenario's folder in the deck (its file name without ``.toml``, made unique).
    step : int or None
        The step to show; None for a view without a timeline (the grad panel's layer and training views),
        which is exported as the scenario has it.
    caption : str
        The key step's caption ("" when the step is the scenario's own, not a key step).
    file : Path
        Where it goes, relative to the deck's folder.
    frame : str
        A quiz's frame (``"question"``, ``"answer"``), whose ``[view] quiz`` the scenario carries; "" otherwise.
    """

    scenario: Scenario
    name: str
    step: int | None
    caption: str
    file: Path
    frame: str = ""

    @property
    def label(self) -> str:
        if self.frame:
            return f"{self.frame} frame"
        return f"step {self.step}" if self.step is not None else "its view"


@dataclass(frozen=True)
class DeckProgress:
    """What :func:`export_deck` reports after each picture (``failure`` is None when it was written)."""

    done: int
    total: int
    picture: DeckPicture
    path: Path
    seconds: float
    failure: DeckFailure | None = None
    skipped: str | None = None

    def line(self) -> str:
        """``[12/57] 04-tiled-64 step 3 → deck/04-tiled-64/step-003.png`` (or ``... failed: why``)."""
        head = f"[{self.done}/{self.total}] {self.picture.name} {self.picture.label}"
        if self.skipped is not None:
            return f"{head} skipped: {self.skipped}"
        if self.failure is not None:
            return f"{head} failed: {self.failure.message}"
        return f"{head} → {self.path}"


@dataclass
class DeckResult:
    """What a deck wrote: the pictures, the failures (unreadable files and pictures), the index, the times."""

    folder: Path
    index: Path | None
    written: list[DeckPicture] = field(default_factory=list)
    failures: list[DeckFailure] = field(default_factory=list)
    #: scenarios with nothing to show yet (a speed scenario without measurements): not failures
    skipped: list[DeckFailure] = field(default_factory=list)
    picture_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled


# -- which scenarios ----------------------------------------------------------------------------


def _scenario_files(folder: Path) -> tuple[list[Scenario], list[DeckFailure]]:
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise DeckError(f"--deck {folder}: the folder holds no scenario files (*.toml)")
    scenarios, failures = [], []
    for path in files:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as e:
            failures.append(DeckFailure(path.stem, f"{path.name}: {e.reason}"))
    return scenarios, failures


def resolve_sources(sources: Iterable[str]) -> tuple[list[Scenario], list[DeckFailure]]:
    """The scenarios that ``--deck`` arguments name, in order, and the files among them that could not be read.

    Each argument is a folder (its ``*.toml`` files, by name), a scenario file, a shipped preset (its file name
    without ``.toml``, or its title), or ``all`` (every shipped preset). Raises :class:`DeckError` for an argument
    that names none of these: that is a wrong request, and nothing should be exported.
    """
    scenarios: list[Scenario] = []
    failures: list[DeckFailure] = []
    shipped: list[Scenario] | None = None
    for text in sources:
        path = Path(text)
        if text == ALL_PRESETS:
            path = presets_dir()
        if path.is_dir():
            found, failed = _scenario_files(path)
            scenarios += found
            failures += failed
            continue
        if path.suffix.lower() == ".toml" and path.is_file():
            try:
                scenarios.append(load_scenario(path))
            except ScenarioError as e:
                failures.append(DeckFailure(path.stem, f"{path.name}: {e.reason}"))
            continue
        if shipped is None:
            shipped = load_presets()[0]
        found = find_preset(shipped, text)
        if found is None:
            raise DeckError(f"--deck {text}: no such folder, scenario file or preset (presets: "
                            f"{', '.join(s.name for s in shipped) or 'none could be read'}; or `all`)")
        scenarios.append(found)
    return scenarios, failures


# -- which pictures -----------------------------------------------------------------------------


def timeline_key(scenario: Scenario) -> str | None:
    """The ``[view]`` key that holds the step a picture shows, or None when the scenario's view has no timeline.

    The panel's own rule, written once in :mod:`gpuviz.model.registry` (the export reads the same): the matmul
    and broadcasting panels step through ``step``; the gradient panel only in its batch view (``batch_step``);
    other panels are exported as they are.
    """
    return models.step_key(scenario.panel, scenario.view)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.").lower()[:60] or "scenario"


def plan_deck(scenarios: Iterable[Scenario], fmt: str = "png") -> list[DeckPicture]:
    """Every picture of a deck of ``scenarios``: each key step, or the scenario's own step when it has none;
    a broadcast quiz question's question frame and answer frame."""
    fmt = fmt.lower().lstrip(".")
    pictures: list[DeckPicture] = []
    used: set[str] = set()
    for scenario in scenarios:
        base = scenario.name or _slug(scenario.title)
        name, i = base, 2
        while name in used:  # the same preset twice, or two folders with the same file name
            name, i = f"{base}-{i}", i + 1
        used.add(name)
        if scenario.panel == "broadcast" and scenario.quiz:
            pictures += _quiz_pictures(scenario, name, fmt)
            continue
        key = timeline_key(scenario)
        if key is None:
            # no timeline: one picture of the view; key steps there describe that picture
            caption = " ".join(ks.caption for ks in scenario.key_steps)
            view = scenario.view.get("view")
            stem = _slug(str(view)) if view else "picture"
            pictures.append(DeckPicture(scenario, name, None, caption, Path(name) / f"{stem}.{fmt}"))
            continue
        steps = [(ks.step, ks.caption) for ks in scenario.key_steps]
        if not steps:
            own = scenario.view.get(key, 0)
            steps = [(int(own) if isinstance(own, int) and not isinstance(own, bool) else 0, "")]
        width = max(3, *(len(str(s)) for s, _ in steps))
        for step, caption in steps:
            pictures.append(DeckPicture(scenario, name, step, caption, Path(name) / f"step-{step:0{width}d}.{fmt}"))
    return pictures


def _quiz_pictures(scenario: Scenario, name: str, fmt: str) -> list[DeckPicture]:
    """A quiz question's two frames: the question as the class sees it (concealed), and NumPy's answer
    (revealed, at the last step, the verdict in large type)."""
    from dataclasses import replace

    works = scenario.quiz.get("answer") == "works"
    try:
        last = len(scenario.params.explain(with_add=True).steps) - 1
    except (AttributeError, ValueError):
        last = 0
    question = replace(scenario, view={"quiz": "question"}, key_steps=())
    answer = replace(scenario, view={"quiz": "answer", "step": last}, key_steps=())
    return [DeckPicture(question, name, None, str(scenario.quiz.get("question", "")), Path(name) / f"question.{fmt}",
                        "question"),
            DeckPicture(answer, name, None, f"Answer: it {'works' if works else 'fails'}.",
                        Path(name) / f"answer.{fmt}", "answer")]


# -- the deck -----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def index_markdown(result: DeckResult, size, theme: str, slide: bool) -> str:
    """The deck's ``index.md``: one table row per picture (title, step, caption, file), then what failed."""
    width, height = size
    look = f"{width}×{height}, {theme} theme" + (", slide look" if slide else "")
    n_scenarios = len({p.name for p in result.written})
    lines = ["# gpuviz deck", "",
             f"{len(result.written)} pictures of {n_scenarios} scenarios ({look}), written by `gpuviz export --deck`.",
             "Steps count from 0, as the pictures label them.", "",
             "| scenario | step | caption | file |", "|---|---|---|---|"]
    for p in result.written:
        step = p.frame or ("—" if p.step is None else str(p.step))
        link = p.file.as_posix()
        lines.append(f"| {_cell(p.scenario.title)} | {step} | {_cell(p.caption)} | [{link}]({link}) |")
    if result.failures:
        lines += ["", "## Not exported", ""]
        for f in result.failures:
            where = "" if f.step is None else f" step {f.step}"
            lines.append(f"- {f.name}{where}: {_cell(f.message)}")
    if result.skipped:
        lines += ["", "## Skipped (nothing to show yet)", ""]
        lines += [f"- {f.name}: {_cell(f.message)}" for f in result.skipped]
    if result.cancelled:
        lines += ["", "The deck was cancelled before every picture was written."]
    return "\n".join(lines) + "\n"


def nothing_to_show(scenario: Scenario) -> str | None:
    """Why ``scenario`` has no picture worth a slide yet, or None.

    A speed scenario without ``[view] results`` would export the panel's "Not measured yet" notice: figures
    are measured, never made up, so the deck leaves it out and says how to give it some.
    """
    if scenario.panel == "speed" and not scenario.view.get("results"):
        return ("no measurements to draw: run `gpuviz bench --save FILE.json` and name the file in the "
                "scenario's [view] results")
    return None


def prepare_folder(out_dir) -> Path:
    """``out_dir`` as a Path, created when missing (its parent must exist); raises :class:`DeckError`."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise DeckError(f"--out {folder}: a file is in the way; a deck is written into a folder")
    if not folder.exists():
        if not folder.parent.is_dir():
            raise DeckError(f"--out {folder}: the folder {folder.parent} does not exist")
        try:
            folder.mkdir()
        except OSError as e:
            raise DeckError(f"--out {folder}: cannot create the folder ({e.strerror or e})") from None
    from .export import remove_stale_parts

    # a killed deck's index.md.part lies in the deck's own folder, where no picture is written
    remove_stale_parts(folder)
    return folder


def export_deck(scenarios: Iterable[Scenario], out_dir, size=(1920, 1080), theme: str = "light",
                slide: bool = False, fmt: str = "png", failures: Iterable[DeckFailure] = (),
                progress: Callable[[DeckProgress], bool | None] | None = None,
                export=export_panel) -> DeckResult:
    """Export every key step of ``scenarios`` into ``out_dir`` and write ``out_dir/index.md``.

    Parameters
    ----------
    scenarios : iterable of Scenario
        In the order the deck lists them (:func:`resolve_sources` reads them from ``--deck`` arguments).
    out_dir : path
        The deck's folder; created when missing. Pictures go to ``<scenario>/step-<S>.<fmt>``.
    size, theme, slide
        As for :func:`gpuviz.ui.export.export_panel`.
    fmt : {"png", "svg"}
        Picture format.
    failures : iterable of DeckFailure
        Scenario files that could not be read, reported in the index with the pictures' failures.
    progress : callable, optional
        Called with a :class:`DeckProgress` after each picture, written or failed; returning False stops the
        deck (the index is still written, marked as cancelled).
    export : callable
        The single-picture export (tests pass a failing one).

    Returns
    -------
    DeckResult
        ``ok`` is False when anything failed. A failing picture never stops the others. Raises
        :class:`DeckError` only when the deck cannot start (bad folder, format or size).
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in DECK_FORMATS:
        raise DeckError(f"--format {fmt}: a deck is written as {' or '.join(DECK_FORMATS)}")
    try:
        size = check_size(size)
    except ExportError as e:
        raise DeckError(str(e)) from None
    folder = prepare_folder(out_dir)
    pictures = plan_deck(scenarios, fmt)
    result = DeckResult(folder, None, failures=list(failures))
    started = time.perf_counter()
    kwargs = {"slide": True} if slide else {}
    for done, picture in enumerate(pictures, 1):
        target = folder / picture.file
        t = time.perf_counter()
        failure = None
        reason = nothing_to_show(picture.scenario)
        if reason is not None:
            result.skipped.append(DeckFailure(picture.name, reason, picture.step))
            if progress is not None and progress(DeckProgress(done, len(pictures), picture, target, 0.0,
                                                              skipped=reason)) is False:
                result.cancelled = done < len(pictures)
                break
            continue
        try:
            target.parent.mkdir(exist_ok=True)
            export(picture.scenario.panel, picture.scenario, target, size=size, theme=theme, step=picture.step,
                   **kwargs)
        except (ParamsError, OSError) as e:  # ExportError and ScenarioError are ParamsErrors
            failure = DeckFailure(picture.name, " ".join(str(e).split()), picture.step)
        except Exception as e:  # a panel's bug must cost one picture, not the lecturer's whole deck
            failure = DeckFailure(picture.name, f"internal error {type(e).__name__}: {' '.join(str(e).split())}",
                                  picture.step)
        seconds = time.perf_counter() - t
        if failure is None:
            result.written.append(picture)
            result.picture_seconds.append(seconds)
        else:
            result.failures.append(failure)
        if progress is not None and progress(DeckProgress(done, len(pictures), picture, target, seconds,
                                                          failure)) is False:
            result.cancelled = done < len(pictures)
            break
    index = folder / "index.md"
    write_atomic(index, index_markdown(result, size, theme if isinstance(theme, str) else theme.name,
                                       slide).encode("utf-8"))
    result.index = index
    result.seconds = time.perf_counter() - started
    return result


__all__ = ["ALL_PRESETS", "DECK_FORMATS", "DeckError", "DeckFailure", "DeckPicture", "DeckProgress", "DeckResult",
           "export_deck", "index_markdown", "plan_deck", "prepare_folder", "resolve_sources", "timeline_key"]
