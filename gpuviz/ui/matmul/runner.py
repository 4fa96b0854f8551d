"""Run for real: the scene's product on the chosen backend, in the engine's worker, off the GUI thread.

The run is an engine job (:mod:`gpuviz.engine.jobs`) watched through the GUI's one
job adapter (:class:`gpuviz.ui.jobs.JobAdapter`, whose docstring has the rule for a
panel that closes while it runs). Nothing here raises at the user: a refused launch,
an over-budget run, a kernel that raises, a worker that dies and a cancel are each
shown inline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...model.budget import BudgetError, plan_run
from ...model.launch import Dim3, LaunchError
from ...model.matmul import ShapeError
from ...model.text import format_duration
from ..jobs import JobAdapter
from ..style import apply_theme, font, mix, okabe, qcolor, subscribe
from ..theme import Theme

#: A simulation estimated to take longer than this asks first (the engine's own budget stops at 2 min).
CONFIRM_ABOVE_S = 10.0

SIMULATOR_NAME = "CUDA simulator (CPU)"


def _job_text(job) -> str:
    b = Dim3.of(job.block)
    return f"{job.kernel} {job.m}×{job.n}×{job.k}, block {b.x}×{b.y}"


@dataclass(frozen=True)
class _AskFirst:
    """The run job's answer when the simulation is estimated over :data:`CONFIRM_ABOVE_S`: nothing ran."""

    seconds: float
    job: object


class RunController(QWidget):
    """"Run for real": a button, progress in blocks, Cancel, and the checked result, all inline.

    Parameters
    ----------
    scene : MatmulScene
        Its :attr:`~gpuviz.model.scene.MatmulScene.params` say what to run and where (``backend``).
    engine : gpuviz.engine.Engine or None
        Runs the job in its worker; None creates one on the first run, closed by :meth:`shutdown`.
    theme : Theme
    parent : QWidget, optional
    kernel_path : str, optional
        A file defining ``make_kernel(block)`` to run instead of the built-in
        kernel (with its mapping); the tests pass a broken kernel this way.

    Notes
    -----
    A simulation estimated (:func:`gpuviz.model.budget.plan_run`) over
    :data:`CONFIRM_ABOVE_S` shows the estimate and asks (Run anyway / Cancel)
    before it starts. Call :meth:`shutdown` when the panel closes: it cancels a
    running job without waiting for it (the rule of :class:`~gpuviz.ui.jobs.JobAdapter`)
    and closes the engine if this controller created it, so no worker is left.
    """

    status_changed = pyqtSignal(str)
    #: After each outcome: the RunResult, or None when nothing ran (refused, declined).
    finished = pyqtSignal(object)

    def __init__(self, scene, engine=None, theme: Theme | None = None, parent=None, *,
                 kernel_path: str | None = None):
        super().__init__(parent)
        from ..theme import LIGHT

        self.scene = scene
        self.kernel_path = kernel_path
        self._engine = engine
        self._own_engine = engine is None
        self._theme = theme or LIGHT
        self._result = None
        self._outcome = ""  # "ok", "wrong", "error", "died", "cancelled", "refused", "declined"
        self._backend = ("", "")
        self._started = 0.0
        self._pending_job = None
        self._refusal = ""

        self.jobs = JobAdapter(self)
        self.jobs.partial.connect(self._on_partial)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.finished.connect(self._on_job_finished)

        self.run_button = QPushButton("▶ Run for real")
        self.run_button.setToolTip("Compute this product on the chosen backend (auto: the GPU if one is found, else "
                                   "the CUDA simulator on the CPU) in a worker process, and check C against NumPy")
        self.run_button.clicked.connect(lambda: self.run())
        self.cancel_button = QPushButton("■ Cancel")
        self.cancel_button.setToolTip("Stop the run: its worker process is ended")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setToolTip("Simulator progress, in thread blocks finished")
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.confirm_frame = QFrame()
        self.confirm_frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.confirm_label = QLabel()
        self.confirm_label.setWordWrap(True)
        self.run_anyway_button = QPushButton("Run anyway")
        self.run_anyway_button.clicked.connect(self._run_anyway)
        self.decline_button = QPushButton("Cancel")
        self.decline_button.clicked.connect(self._decline)
        c = QHBoxLayout(self.confirm_frame)
        c.addWidget(self.confirm_label, 1)
        c.addWidget(self.run_anyway_button)
        c.addWidget(self.decline_button)
        self.confirm_frame.hide()

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.confirm_frame)
        lay.addWidget(self.result_label)
        lay.addStretch(1)

        subscribe(self, scene, "_scene_changed")
        self.set_theme(self._theme)
        self._show_idle()

    # -- public API --------------------------------------------------------------------------------

    @property
    def engine(self):
        """The engine runs go to (created on first use when none was given)."""
        if self._engine is None:
            from ...engine import Engine

            self._engine = Engine()
        return self._engine

    @property
    def running(self) -> bool:
        """A run is going (until its outcome has been shown)."""
        return self.jobs.running

    @property
    def result(self):
        """The last :class:`~gpuviz.engine.RunResult` (None before the first run or after a refusal)."""
        return self._result

    @property
    def outcome(self) -> str:
        """``ok``, ``wrong``, ``error``, ``died``, ``cancelled`` (from the engine), ``refused``, ``declined``, or ""."""
        return self._outcome

    @property
    def confirm_visible(self) -> bool:
        return not self.confirm_frame.isHidden()

    def result_text(self) -> str:
        """The result line as plain text."""
        from PyQt6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.result_label.text())
        return doc.toPlainText()

    def run(self, confirmed: bool = False) -> None:
        """Start running the scene's product (no-op while a run is going)."""
        if self.running:
            return
        job = self._pending_job if confirmed and self._pending_job is not None else self._make_job()
        self._pending_job = None
        self.confirm_frame.hide()
        self._start(job, confirmed)

    def cancel(self) -> None:
        """Stop the running job (its worker process is ended), or decline a pending confirmation."""
        if self.confirm_visible:
            self._decline()
            return
        if not self.running:
            return
        self.jobs.cancel()
        self.cancel_button.setEnabled(False)
        self._set_status("cancelling…")

    def shutdown(self) -> None:
        """Cancel any run without waiting for it, and close the engine if this controller created it.

        The run's outcome is not shown any more. Returns within a moment: closing the
        engine stops its workers (the run's among them) at once.
        """
        was_running = self.running
        self.jobs.close()
        if was_running:
            self._finish_run()
        if self._own_engine and self._engine is not None:
            self._engine.close()
            self._engine = None

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.run_button.setFont(font(theme, bold=True))
        self.result_label.setFont(font(theme))
        self._render_result()

    # -- starting ------------------------------------------------------------------------------------

    def _make_job(self):
        from ...engine import MatmulJob

        p = self.scene.params
        return MatmulJob(p.kernel, p.m, p.n, p.k, Dim3.of(p.block), seed=p.seed, backend=p.backend,
                         kernel_path=self.kernel_path)

    def _start(self, job, confirmed: bool) -> None:
        self._result = None
        self._outcome = ""
        self._backend = ("", "")
        self._job = job
        self._started = time.monotonic()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)  # busy until the worker reports blocks
        self.progress.setFormat("starting…")
        self.result_label.setText("")
        self._set_status(f"starting {_job_text(job)}: finding the backend…")
        self.jobs.start(_run_job(self.engine, job, confirmed))

    def _run_anyway(self) -> None:
        self.run(confirmed=True)

    def _decline(self) -> None:
        self.confirm_frame.hide()
        self._pending_job = None
        self._outcome = "declined"
        self._render_result()
        self._set_status("not run: the simulation was declined")
        self.finished.emit(None)

    # -- what the job reports ------------------------------------------------------------------------

    def _on_partial(self, piece) -> None:
        kind, *args = piece
        if kind == "backend":
            self._on_backend(*args)

    def _on_job_finished(self, job) -> None:
        from ...engine import BackendError, RunResult

        answer, error = job.result, job.error
        if job.state == "ok" and isinstance(answer, _AskFirst):
            self._on_confirm(answer.seconds, answer.job)
        elif job.state == "ok":
            self._on_done(answer)
        elif isinstance(error, (LaunchError, ShapeError, BudgetError, BackendError)):
            self._on_failed(str(error))
        elif job.state == "cancelled":
            self._on_done(RunResult("cancelled", str(error) or "cancelled", self._job, self._backend[0] or None))
        else:  # anything else is still a message, not a traceback dialog
            self._on_failed(f"unexpected {type(error).__name__}: {error}")

    def _on_backend(self, backend: str, name: str) -> None:
        self._backend = (backend, name)
        if backend == "gpu":
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"running on {name}…")
            self._set_status(f"running on the GPU ({name})…")
        else:
            self.progress.setFormat("starting the simulator…")
            self._set_status("running on the CUDA simulator… starting the worker")

    def _on_progress(self, report) -> None:
        if self.jobs.cancelling or not self.running:
            return
        done, total = int(report.done), int(report.total)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done:,}/{total:,} blocks")
        where = "the CUDA simulator" if self._backend[0] != "gpu" else f"the GPU ({self._backend[1]})"
        self._set_status(f"running on {where}… {done:,}/{total:,} blocks")

    def _on_confirm(self, seconds: float, job) -> None:
        self._finish_run()
        self._pending_job = job
        self.confirm_label.setText(
            f"The CUDA simulator would take about <b>{format_duration(seconds)}</b> for {_job_text(job)}: it runs "
            "every GPU thread one after another on the CPU. Run it anyway?")
        self.confirm_frame.show()
        self._set_status(f"waiting: the simulation would take about {format_duration(seconds)}")

    def _on_done(self, result) -> None:
        self._finish_run()
        self._result = result
        self._outcome = result.status
        if result.status in ("ok", "wrong"):
            self.progress.setValue(1)
            self.progress.setFormat("done")
        self._render_result()
        c = self._names()[2]
        self._set_status({"ok": f"run finished: {c} is correct",
                          "wrong": f"run finished: {c} is WRONG",
                          "error": "run failed: the kernel raised an error",
                          "died": "run failed: the worker process died",
                          "cancelled": "run cancelled"}.get(result.status, result.status))
        self.finished.emit(result)

    def _on_failed(self, message: str) -> None:
        message = " ".join(message.split())
        self._finish_run()
        self._outcome = "refused"
        self._refusal = message
        self._render_result()
        self._set_status("not run: " + message)
        self.finished.emit(None)

    def _finish_run(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")

    # -- showing ---------------------------------------------------------------------------------------

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status_changed.emit(text)

    def _show_idle(self) -> None:
        p = self.scene.params
        where = {"auto": "the GPU if one is found, else the CUDA simulator", "gpu": "the GPU",
                 "simulator": "the CUDA simulator (CPU)"}[p.backend]
        a, b, c = self._names()
        self.status.setText(f"Runs {p.kernel} {p.m}×{p.n}×{p.k} on {where} and checks {c} against NumPy.")
        self.run_button.setToolTip("Compute this product on the chosen backend (auto: the GPU if one is found, else "
                                   f"the CUDA simulator on the CPU) in a worker process, and check {c} against NumPy"
                                   + (f" (the kernel computes {a}·{b}; {self.scene.bias} is added after it, so the "
                                      "check leaves it out)" if getattr(self.scene, "bias", None) else ""))

    def _names(self) -> tuple[str, str, str]:
        """The scenario's names for A, B and C (W, x, z in the dense layer)."""
        return tuple(getattr(self.scene, "names", None) or ("A", "B", "C"))

    def _scene_changed(self, scene, changes) -> None:
        if "params" in changes:
            if self.confirm_visible:
                # the estimate was for the old parameters
                self.confirm_frame.hide()
                self._pending_job = None
            if not self.running:
                self._show_idle()
            self._render_result()

    def _render_result(self) -> None:
        t = self._theme
        good = qcolor(okabe("bluish_green") if not t.dark else mix(okabe("bluish_green"), (255, 255, 255), 0.7))
        bad = qcolor(okabe("vermillion") if not t.dark else mix(okabe("vermillion"), (255, 255, 255), 0.7))
        outcome = self._outcome
        if not outcome:
            self.result_label.setText("")
            return
        if outcome == "declined":
            self.result_label.setText("Not run: the simulation was declined.")
            return
        if outcome == "refused":
            self.result_label.setText(f'<span style="color:{bad.name()}"><b>✘ Not run:</b></span> '
                                      f"{_html(self._refusal)}")
            return
        r = self._result
        job = r.job
        stale = ""
        p = self.scene.params
        shown = (job.kernel, job.m, job.n, job.k, tuple(Dim3.of(job.block))[:2])
        if (p.kernel, p.m, p.n, p.k, tuple(p.block)) != shown:
            stale = " <i>(earlier parameters)</i>"
        what = f"{_job_text(job)}{stale}"
        if r.status in ("ok", "wrong"):
            mark = (f'<span style="color:{good.name()}"><b>✔ Correct</b></span>' if r.status == "ok" else
                    f'<span style="color:{bad.name()}"><b>✘ Wrong</b></span>')
            if r.backend == "simulator":
                where = SIMULATOR_NAME
                timing = f"CPU simulation time (not GPU speed): <b>{format_duration(r.seconds)}</b>"
            else:
                where = f"GPU: {_html(r.gpu_name or 'unknown')}"
                timing = f"GPU kernel time: <b>{format_duration(r.seconds)}</b> ({_html(r.timing)})"
            a, b, c = self._names()
            verdict = (f"{c} matches NumPy's {a}·{b}" if r.status == "ok" else
                       f"{c} does NOT match NumPy's {a}·{b}")
            self.result_label.setText(
                f"{mark} — {what}: {verdict}<br>"
                f"max abs error vs NumPy: <b>{r.max_abs_error:.3g}</b> · {timing} · {where}")
        elif r.status == "cancelled":
            self.result_label.setText(f"<b>■ Cancelled</b> — {what}: the worker process was stopped; "
                                      "nothing is left running.")
        else:
            head = "✘ The kernel raised an error" if r.status == "error" else "✘ The worker process died"
            self.result_label.setText(f'<span style="color:{bad.name()}"><b>{head}</b></span> — {what}:<br>'
                                      f"{_html(r.message)}")


def _html(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _run_job(engine, job, confirmed: bool):
    """The run as an engine job: find the backend, ask before a long simulation, run.

    It reports the backend as the partial ``("backend", "gpu" or "simulator", the
    device's name)`` and answers with a :class:`~gpuviz.engine.RunResult`, or with
    :class:`_AskFirst` when the simulation needs a confirmation; a refusal is raised.
    """
    from ...engine import RunResult
    from ...engine.jobs import Job

    def call(me):
        backend = engine.resolve_backend(job.backend)
        name = SIMULATOR_NAME
        if backend == "gpu":
            name = engine.gpu_info().get("gpu_name") or "GPU"
        me.partial(("backend", backend, name))
        if backend == "simulator" and not confirmed:
            seconds = plan_run(job.kernel, job.problem, job.block, simulator=True, trace=False).simulator_seconds
            if seconds > CONFIRM_ABOVE_S:
                return _AskFirst(seconds, job)
        if me.cancel_requested:
            return RunResult("cancelled", "cancelled before it started", job, backend)
        # its own cancel flag: a cancel here stops this run, never another panel's job on the same engine
        return engine.run(job, me.progress, confirmed=confirmed, cancel=me.cancel_event)

    return Job(call, None, name="gpuviz-run")
