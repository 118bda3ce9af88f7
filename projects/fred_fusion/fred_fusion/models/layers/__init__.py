from .foreach_exp_momentum_ema import ForeachExpMomentumEMA

__all__ = ['ForeachExpMomentumEMA']
