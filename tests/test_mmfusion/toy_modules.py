"""A tiny classifier, dataset and metric for engine tests.

Importing the module registers them in mmengine's root registries, so
in-process tests and ``tools/train.py`` subprocesses (through
``custom_imports=dict(imports=['tests.test_mmfusion.toy_modules'])``) can
build them from configs.

The training path draws from every global generator (python ``random``
and numpy in the dataset, torch in dropout and the sampler seed), so a
resumed run only matches an uninterrupted one if all of them are restored.

Failure injection for the crash-safety tests, active only when the
environment variable ``TOY_KILL`` is set, as ``<where>:<n>``:

- ``train:<n>``: SIGKILL inside the n-th training forward pass (1-based,
  counted in this process);
- ``val:<n>``: SIGKILL inside the n-th validation forward pass;
- ``save:<n>``: the n-th checkpoint write through the ``toy_killing``
  file backend writes half of the bytes, then SIGKILLs the process.
"""
import os
import random
import signal
import socket
import time
import uuid
from typing import Callable, Dict, List, Optional, Union

import numpy as np
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.evaluator import BaseMetric
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS
from torch.utils.data import Dataset

_COUNTS = {'train': 0, 'val': 0, 'save': 0}


def _maybe_kill(where: str) -> bool:
    """Count an event; True if ``TOY_KILL`` asks to die at this one."""
    _COUNTS[where] += 1
    spec = os.environ.get('TOY_KILL', '')
    if not spec:
        return False
    kind, _, count = spec.partition(':')
    return kind == where and int(count) == _COUNTS[where]


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@DATASETS.register_module()
class ToyDataset(Dataset):
    """Seeded random 8-d points around 3 fixed class centres, augmented.

    Args:
        num_samples (int): Dataset length. Defaults to 24.
        seed (int): Seed of the fixed samples. Defaults to 0.
        augment (bool): Add numpy noise and a python-random scale.
            Defaults to True.
    """

    metainfo = dict(classes=('a', 'b', 'c'))

    def __init__(self,
                 num_samples: int = 24,
                 seed: int = 0,
                 augment: bool = True) -> None:
        centers = np.random.RandomState(12345).randn(3, 8)
        rng = np.random.RandomState(seed)
        self.labels = rng.randint(0, 3, size=num_samples)
        self.points = (centers[self.labels] +
                       0.8 * rng.randn(num_samples, 8)).astype(np.float32)
        self.augment = augment

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> dict:
        point = self.points[idx]
        if self.augment:
            point = point + 0.1 * np.random.randn(8).astype(np.float32)
            point = point * random.uniform(0.9, 1.1)
        return dict(
            inputs=torch.from_numpy(np.asarray(point, dtype=np.float32)),
            labels=torch.tensor(int(self.labels[idx])))


@MODELS.register_module()
class ToyClassifier(BaseModel):
    """MLP with dropout; optionally NaN at one iteration.

    Args:
        nan_iter (int, optional): 0-based training iteration (as in the
            message hub's ``iter``) whose ``loss_cls`` is NaN.
            Defaults to None.
        nan_grad_iter (int, optional): 0-based training iteration whose
            loss is finite but gives NaN gradients to ``net.0.weight``.
            Defaults to None.
        nan_rank (int, optional): The only rank whose ``loss_cls`` is NaN
            at ``nan_iter``. Defaults to None: every rank.
    """

    def __init__(self,
                 nan_iter: Optional[int] = None,
                 nan_grad_iter: Optional[int] = None,
                 nan_rank: Optional[int] = None) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        self.nan_iter = nan_iter
        self.nan_grad_iter = nan_grad_iter
        self.nan_rank = nan_rank

    def forward(self,
                inputs: torch.Tensor,
                labels: torch.Tensor,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], List]:
        """Losses (``mode='loss'``), predictions or logits."""
        if mode == 'loss' and _maybe_kill('train'):
            _kill()
        if mode == 'predict' and _maybe_kill('val'):
            _kill()
        logits = self.net(inputs)
        if mode == 'tensor':
            return logits
        if mode == 'predict':
            return [
                dict(pred=int(p), gt=int(g))
                for p, g in zip(logits.argmax(1), labels)
            ]
        loss_cls = F.cross_entropy(logits, labels)
        it = MessageHub.get_current_instance().get_info('iter')
        if self.nan_iter is not None and it == self.nan_iter and (
                self.nan_rank in (None, get_rank())):
            loss_cls = loss_cls * float('nan')
        if self.nan_grad_iter is not None and it == self.nan_grad_iter:
            # sqrt(w - w) is 0, its gradient 0 * inf = nan.
            weight = self.net[0].weight
            loss_cls = loss_cls + torch.sqrt(weight - weight).sum()
        loss_l2 = 1e-3 * sum((p**2).sum() for p in self.parameters())
        return dict(loss_cls=loss_cls, loss_l2=loss_l2)


@METRICS.register_module()
class ToyAccuracy(BaseMetric):
    """Top-1 accuracy of :class:`ToyClassifier`'s predictions."""

    def process(self, data_batch, data_samples) -> None:
        """Collect (prediction, label) pairs."""
        self.results.extend((s['pred'] == s['gt']) for s in data_samples)

    def compute_metrics(self, results: list) -> dict:
        """Return ``dict(accuracy=...)``."""
        return dict(accuracy=float(np.mean(results)))


class ToyKillingBackend(LocalBackend):
    """Local backend whose ``put`` can die half-way (see ``TOY_KILL``)."""

    def put(self, obj: bytes, filepath) -> None:
        """Write ``obj``, or half of it and SIGKILL when asked to."""
        if _maybe_kill('save'):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            _kill()
        super().put(obj, filepath)


register_backend('toy_killing', ToyKillingBackend, force=True)


class ToyRecordingBackend(LocalBackend):
    """Local backend that records its writes and removals, in order, in
    :attr:`calls` as ``('put' | 'remove', path)``."""

    calls: List[tuple] = []

    def put(self, obj: bytes, filepath) -> None:
        """Record and write ``obj``."""
        self.calls.append(('put', str(filepath)))
        super().put(obj, filepath)

    def remove(self, filepath) -> None:
        """Record and remove ``filepath``."""
        self.calls.append(('remove', str(filepath)))
        super().remove(filepath)


register_backend('toy_recording', ToyRecordingBackend, force=True)

TOY_CONFIG = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'toy_classifier_config.py')


def toy_config(work_dir: str, max_epochs: int = 5) -> Config:
    """The toy config for an in-process :class:`~mmengine.runner.Runner`.

    Args:
        work_dir (str): Work directory; its name is also the experiment
            name, so runners built in the same second do not share loggers.
        max_epochs (int): Training epochs. Defaults to 5.

    Returns:
        Config: The config, ready for ``Runner.from_cfg``.
    """
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = os.path.basename(os.path.normpath(work_dir))
    cfg.train_cfg.max_epochs = max_epochs
    return cfg


@DATASETS.register_module()
class ToyRegressionDataset(Dataset):
    """Fixed random 4-d points with a regression target (their sum + 1).

    Args:
        num_samples (int): Dataset length. Defaults to 24.
    """

    def __init__(self, num_samples: int = 24) -> None:
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(num_samples, 4, generator=gen)
        self.y = self.x.sum(1, keepdim=True) + 1.

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.x[idx], targets=self.y[idx])


@MODELS.register_module()
class ToyBackboneHeadModel(BaseModel):
    """``backbone`` (Linear + BatchNorm) and ``head``, as in a detector, for
    freezing and distributed tests."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 1)

    def forward(self, inputs, targets, mode: str = 'tensor'):
        out = self.head(F.relu(self.backbone(inputs)))
        if mode == 'loss':
            return dict(loss=F.mse_loss(out, targets))
        return out


def toy_regression_runner_cfg(work_dir: str, max_epochs: int,
                              **fields) -> dict:
    """Runner config of :class:`ToyBackboneHeadModel` on
    :class:`ToyRegressionDataset` (batch 6, SGD lr 0.1, seed 0); ``fields``
    add or replace top-level fields."""
    cfg = dict(
        model=dict(type='ToyBackboneHeadModel'),
        work_dir=work_dir,
        experiment_name=uuid.uuid4().hex,
        train_dataloader=dict(
            batch_size=6,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='ToyRegressionDataset')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        randomness=dict(seed=0),
        default_scope='mmengine')
    cfg.update(fields)
    return cfg


def free_port() -> int:
    """A free TCP port on localhost for a process group."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cpu_only_env(**extra) -> dict:
    """The environment of a subprocess that must take the CPU path (gloo,
    no CUDA) also on a machine with GPUs: no GPU is visible to it."""
    return dict(os.environ, CUDA_VISIBLE_DEVICES='', **extra)


def run_cpu_workers(worker: Callable,
                    args: tuple,
                    nprocs: int = 2,
                    timeout: float = 120,
                    start_method: Optional[str] = None) -> None:
    """Run ``worker(rank, *args)`` in ``nprocs`` processes that see no GPU,
    so that they take the CPU / gloo path as on a machine without GPUs.

    The processes are forked (fast) unless this process has initialised
    CUDA, which a forked child could neither use nor hide; then they are
    spawned. A worker still running after ``timeout`` seconds (e.g.
    waiting in a collective for one that failed) fails the test.

    Args:
        worker (Callable): A module-level function (spawned workers import
            it).
        args (tuple): Its arguments after the rank.
        nprocs (int): Number of processes. Defaults to 2.
        timeout (float): Seconds to wait at most. Defaults to 120.
        start_method (str, optional): ``'fork'`` or ``'spawn'``. Defaults to
            None: as above.
    """
    if start_method is None:
        start_method = 'spawn' if torch.cuda.is_initialized() else 'fork'
    hidden = os.environ.get('CUDA_VISIBLE_DEVICES')
    os.environ['CUDA_VISIBLE_DEVICES'] = ''
    try:
        context = mp.start_processes(
            worker,
            args=args,
            nprocs=nprocs,
            join=False,
            start_method=start_method)
    finally:
        if hidden is None:
            del os.environ['CUDA_VISIBLE_DEVICES']
        else:
            os.environ['CUDA_VISIBLE_DEVICES'] = hidden
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
            raise TimeoutError(
                f'{nprocs} workers still running after {timeout} s')


def init_gloo_process_group(rank: int, world_size: int, port: int) -> None:
    """Join a CPU (gloo) process group on localhost as ``rank``, with the
    environment mmengine's ``launcher='pytorch'`` reads, one thread."""
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', rank=rank, world_size=world_size)
