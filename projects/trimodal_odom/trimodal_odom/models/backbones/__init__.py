from .light_conv_net import LightConvNet

__all__ = ['LightConvNet']
