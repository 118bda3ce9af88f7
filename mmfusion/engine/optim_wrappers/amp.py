"""The mixed-precision variant of an optimizer wrapper config."""

#: Optimizer wrapper type -> its mixed-precision (loss scaling) variant.
AMP_VARIANTS = {
    'OptimWrapper': 'AmpOptimWrapper',
    'FiniteOptimWrapper': 'FiniteAmpOptimWrapper',
}


def amp_optim_wrapper(cfg: dict) -> dict:
    """The config of ``cfg``'s mixed-precision variant with dynamic loss
    scaling, as ``tools/train.py --amp`` trains.

    A config that is already of an AMP type is returned as it is; the
    non-finite check of ``FiniteOptimWrapper`` is kept
    (``FiniteAmpOptimWrapper``).

    Args:
        cfg (dict): An ``optim_wrapper`` config.

    Returns:
        dict: A new config.

    Raises:
        ValueError: For a wrapper type without a known AMP variant.
    """
    cfg = dict(cfg)
    kind = cfg.get('type', 'OptimWrapper')
    if kind in AMP_VARIANTS.values():
        return cfg
    if kind not in AMP_VARIANTS:
        raise ValueError(f'--amp is only supported with {sorted(AMP_VARIANTS)}'
                         f', the config uses {kind}')
    cfg.update(type=AMP_VARIANTS[kind], loss_scale='dynamic')
    return cfg
