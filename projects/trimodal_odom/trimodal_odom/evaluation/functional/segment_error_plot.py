"""Plot of the KITTI errors against the segment length (as the devkit)."""
from typing import Dict, Optional, Sequence

from .kitti_odom_eval import KITTI_LENGTHS
from .trajectory_plot import save_png


def plot_segment_errors(path: str,
                        summaries: Dict[str, dict],
                        lengths: Sequence[float] = KITTI_LENGTHS,
                        title: Optional[str] = None) -> None:
    """Save translation and rotation errors per segment length as a PNG.

    Args:
        path (str): Output PNG file.
        summaries (dict[str, dict]): Label (e.g. a sequence) -> metrics of
            :func:`~.kitti_odom_eval.summarize_errors` (``t_rel_{L}`` in %,
            ``r_rel_{L}`` in deg / 100 m); lengths without segments are
            left out of a line.
        lengths (Sequence[float]): Segment lengths in metres.
            Defaults to 100, ..., 800.
        title (str, optional): Figure title. Defaults to None.
    """
    # Imported here, as in :func:`~.trajectory_plot.plot_trajectories`.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for label, summary in summaries.items():
        for ax, key in zip(axes, ('t_rel', 'r_rel')):
            points = [(length, summary[f'{key}_{int(length)}'])
                      for length in lengths
                      if f'{key}_{int(length)}' in summary]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, 'o-', ms=3, lw=1.0, label=label)
    axes[0].set_ylabel('translation error [%]')
    axes[1].set_ylabel('rotation error [deg / 100 m]')
    for ax in axes:
        ax.set_xlabel('segment length [m]')
        ax.grid(True, lw=0.3)
        ax.legend(loc='best', fontsize=8)
    if title:
        fig.suptitle(title)
    save_png(fig, path)
