from .stream_pretrained_init import StreamLoadPlan, StreamPretrainedInit

__all__ = ['StreamPretrainedInit', 'StreamLoadPlan']
