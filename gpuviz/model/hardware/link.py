"""The Hardware panel follows the matmul panel: same launch, same selected block (both ways).

Qt-free: a :class:`MatmulLink` listens to a :class:`~gpuviz.model.scene.MatmulScene`
and a :class:`~gpuviz.model.hardware.panel.HardwareModel`. When the scene's
kernel, sizes or block change, the hardware model takes them (its GPU and
resources stay); when either selects a block and both show the same grid,
the other selects it too. Nothing is pushed when the link is made, so each
panel keeps what it was showing until the matmul scene next changes.
"""

from __future__ import annotations

from .panel import HardwareError, HardwareModel


class MatmulLink:
    """Keep ``hardware``'s launch and selected block in step with ``scene`` (see the module docstring)."""

    def __init__(self, scene, hardware: HardwareModel):
        self.scene, self.hardware = scene, hardware
        self._busy = False
        self.refused = ""  # the hardware model's sentence when it could not take the scene's launch
        scene.subscribe(self._scene_changed)
        hardware.subscribe(self._hardware_changed)

    def close(self) -> None:
        self.scene.unsubscribe(self._scene_changed)
        self.hardware.unsubscribe(self._hardware_changed)

    def follow_now(self) -> None:
        """Take the scene's launch and selected block now, as if both had just changed (linking itself pushes
        nothing: a view that links late, after the scene moved on, calls this to catch up)."""
        self._scene_changed(self.scene, {"params", "selection"})

    def same_grid(self) -> bool:
        return self.scene.launch == self.hardware.launch

    def _scene_changed(self, scene, changes) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            if "params" in changes:
                p = scene.params
                try:
                    self.hardware.update(kernel=p.kernel, m=p.m, n=p.n, k=p.k, block=tuple(p.block))
                    self.refused = ""
                except HardwareError as e:
                    self.refused = str(e)
            if changes & {"params", "selection"} and self.same_grid():
                bx, by, _ = scene.selected.block
                self.hardware.select_block(self.hardware.block_linear(bx, by))
        finally:
            self._busy = False

    def _hardware_changed(self, hardware, changes) -> None:
        if self._busy or "selection" not in changes or hardware.selected_block is None or not self.same_grid():
            return
        self._busy = True
        try:
            bx, by, _ = hardware.block_index(hardware.selected_block)
            thread = self.scene.selected.thread
            self.scene.select_thread((bx, by), thread[:2])
        finally:
            self._busy = False
