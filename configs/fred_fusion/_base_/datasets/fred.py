# FRED dataset settings: the real FRED at data/FRED, canonical split.
#
# Pair the frames first (seed defaults: fusion threshold 0.1 s, five
# classes, coordinates.txt):
#   python tools/dataset_converters/fred_converter.py data/FRED
# Pipelines, evaluator and the override rules are those of
# ``fred_sample.py``; only the data root changes.
_base_ = ['./fred_sample.py']

data_root = 'data/FRED/'

train_dataloader = dict(dataset=dict(dataset=dict(data_root=data_root)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
