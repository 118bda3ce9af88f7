"""Plot of the fusion gates per frame over a sequence's failure
stretches."""
from typing import Optional, Sequence

import numpy as np

from .trajectory_plot import save_png

#: Shade of the stretches where a sensor fails, per failing sensor.
_SENSOR_COLOURS = dict(camera='tab:orange', lidar='tab:blue', imu='tab:green')


def plot_gates(path: str,
               frames: np.ndarray,
               gates: np.ndarray,
               modalities: Sequence[str],
               stretches: Sequence[dict] = (),
               title: Optional[str] = None) -> None:
    """Save the weight of each modality against the frame as a PNG, the
    stretches where a sensor fails shaded and labelled.

    Args:
        path (str): Output PNG file.
        frames (np.ndarray): First frame of each pair (K,).
        gates (np.ndarray): Gates (K, M) (``XX_gates.txt`` of
            :class:`KittiOdomMetric`).
        modalities (Sequence[str]): The M modality names.
        stretches (Sequence[dict]): ``kind``, ``sensor``, ``first`` and
            ``last`` of each failure stretch (a hard sample's manifest).
            Defaults to ().
        title (str, optional): Figure title. Defaults to None.
    """
    gates = np.asarray(gates, dtype=np.float64).reshape(len(frames), -1)
    if gates.shape[1] != len(modalities):
        raise ValueError(f'{gates.shape[1]} gate columns for the modalities '
                         f'{list(modalities)}')
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for s in stretches:
        colour = _SENSOR_COLOURS.get(s.get('sensor'), 'tab:gray')
        ax.axvspan(s['first'], s['last'] + 1, color=colour, alpha=0.2, lw=0)
        ax.text(
            0.5 * (s['first'] + s['last'] + 1),
            1.02,
            s['kind'],
            ha='center',
            va='bottom',
            fontsize=7,
            transform=ax.get_xaxis_transform())
    for column, name in enumerate(modalities):
        ax.plot(frames, gates[:, column], lw=1.0, label=name)
    ax.set_xlabel('frame')
    ax.set_ylabel('gate')
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, lw=0.3)
    ax.legend(loc='lower right', fontsize=8)
    if title:
        ax.set_title(title, pad=14)
    save_png(fig, path)
