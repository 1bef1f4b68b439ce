"""Animations of the displays: their runs drawn iteration by iteration.

``display.animate(*others)`` returns a :class:`RunAnimation` (a matplotlib
``FuncAnimation``) in which the runs of ``display`` and of the ``others``
drawn on the same figure (a loss curve beside its path, say) grow together,
one shared iteration count per frame. ``anim.to_jshtml()`` plays it in a
notebook; ``anim.save("run.gif")`` writes a GIF with Pillow (no ffmpeg
needed). Long runs are sampled on a geometric grid of iterations, so the
first iterations, where most happens, get most of the frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from matplotlib.animation import FuncAnimation
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.lines import Line2D

    class RunAnimation(FuncAnimation):
        """What :func:`animate_tracks` returns (the class is made on first
        use, so that matplotlib is imported only to animate)."""

        iterations: np.ndarray

        show_iteration: Callable[[int], list[Any]]


# An artist that grows, its points and the iteration of each point.
Track = tuple[Any, np.ndarray, np.ndarray, np.ndarray]


def _animation_class() -> type[RunAnimation]:
    """Defined on first use: matplotlib is imported only to animate."""
    from matplotlib.animation import FuncAnimation

    class RunAnimation(FuncAnimation):
        """``FuncAnimation`` of growing runs; ``iterations`` holds the
        iteration count of every frame, ``show_iteration(k)`` draws one."""

        def save(
            self, filename: Any, writer: Any = None, *args: Any, **kwargs: Any
        ) -> None:
            if writer is None and str(filename).lower().endswith(".gif"):
                writer = "pillow"  # ffmpeg is not needed for a GIF
            return super().save(filename, writer, *args, **kwargs)

    # The class above is the one the stub under TYPE_CHECKING describes.
    return cast(Any, RunAnimation)


def frame_iterations(last: float, frames: int) -> np.ndarray:
    """The iteration count of each frame: every one up to ``frames``, else a
    geometric grid from 1 to ``last`` (the start of a run gets most frames)."""
    last = max(int(last), 1)
    if last <= frames:
        return np.arange(1, last + 1)
    return np.unique(np.round(np.geomspace(1, last, frames)).astype(int))


def animate_tracks(
    figure: Figure | SubFigure,
    tracks: Sequence[Track],
    *,
    frames: int = 60,
    interval: int = 80,
    repeat: bool = True,
) -> RunAnimation:
    """Animate ``tracks``: ``(artist, x, y, iterations)``, each point shown
    once the frame's iteration count reaches its own."""
    last = max(int(np.max(it)) for *_, it in tracks if len(it))
    iterations = frame_iterations(last, frames)

    def show_iteration(count: int) -> list[Any]:
        for artist, x, y, its in tracks:
            shown = its <= count
            artist.set_data(x[shown], y[shown])
        return [track[0] for track in tracks]

    animation = _animation_class()(
        # A SubFigure animates on the canvas of the figure that holds it.
        cast("Figure", figure),
        lambda frame: show_iteration(int(iterations[frame])),
        frames=len(iterations),
        interval=interval,
        repeat=repeat,
        blit=False,
    )
    animation.iterations = iterations
    animation.show_iteration = show_iteration
    return animation


class AnimateMixin:
    """``animate()`` for a display that lists its growing artists in
    ``_tracks()``."""

    figure_: Figure | SubFigure

    def _tracks(self) -> list[Track]:
        raise NotImplementedError

    def animate(
        self,
        *others: AnimateMixin,
        frames: int = 60,
        interval: int = 80,
        repeat: bool = True,
    ) -> RunAnimation:
        """Animate the run drawn by this display (and by ``others``, displays
        on the same figure), growing iteration by iteration.

        Parameters
        ----------
        *others : displays
            Displays drawn on the same figure whose runs grow in step with
            this one (for example the ``TrajectoryDisplay`` of the run whose
            ``LossCurveDisplay`` this is).
        frames : int, default=60
            Most frames; longer runs are sampled geometrically.
        interval : int, default=80
            Milliseconds between frames.
        repeat : bool, default=True
            Whether the animation loops.

        Returns
        -------
        animation : matplotlib.animation.FuncAnimation
            Ready for ``to_jshtml()`` and ``save("path.gif")`` (Pillow).
            ``animation.iterations`` is the iteration count of every frame.
        """
        from .._compat import check_matplotlib_support

        check_matplotlib_support(f"{type(self).__name__}.animate")
        for other in others:
            if other.figure_ is not self.figure_:
                raise ValueError(
                    "animate(*others) animates one figure: draw the other "
                    "displays on the axes of this one's figure (ax=...)."
                )
        tracks = [track for display in (self, *others) for track in display._tracks()]
        return animate_tracks(
            self.figure_, tracks, frames=frames, interval=interval, repeat=repeat
        )


def line_track(line: Line2D, first_iteration: int) -> Track:
    """A line whose n-th point belongs to iteration ``first_iteration + n``."""
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    return line, x, y, first_iteration + np.arange(x.size)
