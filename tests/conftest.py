"""Settings of the whole suite.

``make test`` runs the suite on several processes (pytest-xdist, one per
core of the CI machine); each of them, and the processes its tests start,
then computes on one thread, so that the processes do not compete for the
cores.
"""
import os

if os.environ.get('PYTEST_XDIST_WORKER'):
    for _name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ.setdefault(_name, '1')
