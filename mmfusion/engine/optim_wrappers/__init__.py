from .amp import AMP_VARIANTS, amp_optim_wrapper
from .finite_optim_wrapper import (FiniteAmpOptimWrapper, FiniteCheckMixin,
                                   FiniteOptimWrapper)
from .grouped_param_constructor import (GroupedParamsOptimWrapperConstructor,
                                        merge_param_groups)

__all__ = [
    'FiniteCheckMixin', 'FiniteOptimWrapper', 'FiniteAmpOptimWrapper',
    'AMP_VARIANTS', 'amp_optim_wrapper',
    'GroupedParamsOptimWrapperConstructor', 'merge_param_groups'
]
