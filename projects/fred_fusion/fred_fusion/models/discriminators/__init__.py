from .pair_discriminator import PairDiscriminator

__all__ = ['PairDiscriminator']
