# FRED dataset settings: the real FRED at data/FRED, canonical split.
#
# Pair the frames first (seed defaults: fusion threshold 0.1 s, five
# classes, coordinates.txt):
#   python tools/dataset_converters/fred_converter.py data/FRED
# Pipelines, evaluator and the override rules are those of
# ``fred_sample.py``; only the data root changes.
_base_ = ['./fred_sample.py']

data_root = 'data/FRED/'
# True: read the event frames from the lossless sparse cache (see
# ``fred_sample.py``), built with
#   python tools/dataset_converters/fred_event_cache.py data/FRED
event_cache = False

# The loading steps of the base pipelines, with this file's event_cache.
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            pipeline=[
                dict(step, event_cache=event_cache) if step['type'] ==
                'LoadFREDImages' else step
                for step in _base_.train_dataset.dataset.pipeline
            ])))
test_pipeline = [
    dict(step, event_cache=event_cache)
    if step['type'] == 'LoadFREDImages' else step
    for step in _base_.test_pipeline
]
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
