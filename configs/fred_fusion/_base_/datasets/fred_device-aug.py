# FRED dataset settings on the device augmentation path: the real FRED at
# data/FRED, canonical split. Loading, augmentation and the override rules
# are those of ``fred_sample_device-aug.py``; the data root changes, and
# the event frames come from the lossless cache (a 1280x720 event PNG takes
# ~9 ms of a worker to decode, the rest of a sample ~2 ms), built once with
#   python tools/dataset_converters/fred_event_cache.py data/FRED
# Validation as in ``fred.py``.
_base_ = ['./fred_sample_device-aug.py']

data_root = 'data/FRED/'
event_cache = True

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(step, event_cache=event_cache) if step['type'] ==
            'LoadFREDImages' else step for step in _base_.device_train_pipeline
        ]))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
