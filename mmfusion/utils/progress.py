"""Progress of long jobs: tasks run in this process or in a pool of
processes, in order, behind mmengine's progress bar (done / total, rate,
elapsed time and the time left), as mmdet's dataset converters show it.
"""
import sys
from multiprocessing import Pool
from typing import Callable, Iterator, Optional, Sequence, TextIO

from mmengine.utils import ProgressBar


def track_tasks(func: Callable,
                tasks: Sequence,
                nproc: int = 1,
                desc: Optional[str] = None,
                progress: bool = True,
                pool: Optional[Pool] = None,
                file: Optional[TextIO] = None) -> Iterator:
    """Yield ``func(task)`` for every task, in the order of ``tasks``.

    With ``nproc > 1`` (or a ``pool``) the tasks run in worker processes
    (``func`` and the tasks must pickle), and the results still come in
    order, one at a time, so that a caller can write or merge them as they
    come. The result of a task is the same for any ``nproc``.

    Args:
        func (Callable): Function of one task, at module level.
        tasks (Sequence): The tasks.
        nproc (int): Worker processes; 1 runs the tasks here. Defaults
            to 1.
        desc (str, optional): Line printed above the bar. Defaults to None.
        progress (bool): Show the bar (one step a task). Defaults to True.
        pool (Pool, optional): A pool to run the tasks in instead of a new
            one of ``nproc`` processes. Defaults to None.
        file (TextIO, optional): Where the bar goes. Defaults to
            ``sys.stdout`` of the call (mmengine's default is that of its
            import, which misses a redirected stdout).

    Yields:
        The results of ``func``.
    """
    if nproc < 1:
        raise ValueError(f'nproc must be >= 1, got {nproc}')
    file = sys.stdout if file is None else file
    bar = None
    if progress and len(tasks):
        if desc:
            file.write(desc + '\n')
        bar = ProgressBar(len(tasks), file=file)
    own_pool = None
    if pool is None and min(nproc, len(tasks)) > 1:
        pool = own_pool = Pool(min(nproc, len(tasks)))
    results = (
        map(func, tasks) if pool is None else pool.imap(
            func, tasks, chunksize=1))
    try:
        for result in results:
            if bar is not None:
                bar.update()
            yield result
    finally:
        # a caller that stops early (or an error) ends the workers
        if own_pool is not None:
            own_pool.terminate()
            own_pool.join()
    if bar is not None:
        file.write('\n')
        file.flush()
