"""The one-line fusion summary of a FRED pairing."""


def format_fusion_stats(paired: int, total: int,
                        mean_abs_diff_ms: float) -> str:
    """Format the fusion statistics line.

    Example: ``Fusion: Dual Rate: 5120/13629 (37.6%), Avg Time Diff:
    15.23ms``.

    Args:
        paired (int): Samples whose RGB and event frames are within the
            fusion threshold.
        total (int): All samples.
        mean_abs_diff_ms (float): Mean absolute RGB-to-event time
            difference over all samples, in milliseconds.

    Returns:
        str: The line.
    """
    rate = 100. * paired / total if total else 0.
    return (f'Fusion: Dual Rate: {paired}/{total} ({rate:.1f}%), '
            f'Avg Time Diff: {mean_abs_diff_ms:.2f}ms')
