from .dual_modal_det_local_visualizer import DualModalDetLocalVisualizer
from .dual_modal_det_visualization_hook import DualModalDetVisualizationHook

__all__ = ['DualModalDetLocalVisualizer', 'DualModalDetVisualizationHook']
