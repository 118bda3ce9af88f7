"""Getting, setting and seeding the global random generators (python
``random``, numpy, torch and, when in use, CUDA).

Imports torch: import it from this module, not from :mod:`mmfusion.utils`
(which stays light).
"""
import random

import numpy as np
import torch


def get_rng_state() -> dict:
    """States of the python, numpy, torch (and CUDA) generators.

    Returns:
        dict: ``python``, ``numpy``, ``torch`` and, when CUDA is in use,
        ``cuda`` (one state per device).
    """
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore the generators from :func:`get_rng_state`'s output.

    Args:
        state (dict): The saved states.
    """
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    cuda = state.get('cuda')
    if cuda is not None and torch.cuda.is_available() and \
            len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def seed_cpu_rng(*entropy: int) -> None:
    """Seed the python, numpy and torch CPU generators from integers.

    The three seeds are drawn from ``numpy.random.SeedSequence(entropy)``,
    so that different entropy tuples (e.g. ``(seed, epoch, position)``)
    give independent streams. CUDA generators are left alone.

    Args:
        *entropy (int): Non-negative integers.
    """
    words = np.random.SeedSequence(list(entropy)).generate_state(4)
    random.seed(int(words[0]) << 32 | int(words[1]))
    np.random.seed(int(words[2]))
    torch.default_generator.manual_seed(int(words[3]) << 32 | int(words[0]))
