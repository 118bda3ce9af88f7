from .amp import AMP_VARIANTS, amp_optim_wrapper
from .finite_optim_wrapper import (FiniteAmpOptimWrapper, FiniteCheckMixin,
                                   FiniteOptimWrapper)

__all__ = [
    'FiniteCheckMixin', 'FiniteOptimWrapper', 'FiniteAmpOptimWrapper',
    'AMP_VARIANTS', 'amp_optim_wrapper'
]
