from .batch_sim_ota_assigner import BatchSimOTAAssigner

__all__ = ['BatchSimOTAAssigner']
