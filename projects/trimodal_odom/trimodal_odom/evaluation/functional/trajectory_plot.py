"""Top-view plot of estimated and ground-truth trajectories."""
from typing import Dict, Optional

import numpy as np

from mmfusion.utils.fileio import atomic_open


def plot_trajectories(path: str,
                      gt: np.ndarray,
                      estimates: Dict[str, np.ndarray],
                      title: Optional[str] = None) -> None:
    """Save the x-z (top) view of trajectories as a PNG.

    Args:
        path (str): Output PNG file.
        gt (np.ndarray): Ground-truth poses of shape (N, 4, 4), camera-0
            frame (x right, z forward).
        estimates (dict[str, np.ndarray]): Label -> estimated poses
            (N, 4, 4).
        title (str, optional): Figure title. Defaults to None.
    """
    # Imported here, so that the metric loads without matplotlib (0.3 s)
    # unless it draws.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A Figure of its own: no pyplot state, no global backend switch.
    fig = Figure(figsize=(6, 6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(gt[:, 0, 3], gt[:, 2, 3], 'k-', lw=1.5, label='ground truth')
    for label, est in estimates.items():
        ax.plot(est[:, 0, 3], est[:, 2, 3], lw=1.0, label=label)
    ax.plot(gt[0, 0, 3], gt[0, 2, 3], 'ko', ms=4)
    ax.set_xlabel('x [m]')
    ax.set_ylabel('z [m]')
    ax.set_aspect('equal', adjustable='datalim')
    ax.grid(True, lw=0.3)
    ax.legend(loc='best', fontsize=8)
    if title:
        ax.set_title(title)
    save_png(fig, path)


def save_png(fig, path: str) -> None:
    """Lay out a matplotlib ``Figure`` and write it as a PNG atomically (a
    reader never sees a partial file)."""
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png', dpi=100)
