# The generated KITTI odometry sample (the real on-disk layouts, a few
# seconds of driving along real trajectories) for smoke runs and demos:
# the datasets of ``kitti_odom.py`` on the sample's sequences, with smaller
# images and clouds. Create it, then convert it:
#   python tools/misc/generate_kitti_sample.py data/kitti_sample \
#       --preset demo
#   python tools/dataset_converters/kitti_odom_converter.py \
#       data/kitti_sample
# Train on sequence 00, validate on sequence 09 (as the real split).
_base_ = ['./kitti_odom.py']

data_root = 'data/kitti_sample/'
train_sequences = '00'
val_sequences = '09'
imu_stats_file = data_root + 'infos/imu_stats.json'
img_scale = (320, 96)  # (w, h)
num_points = 1024
point_cloud_range = [-40.0, -40.0, -3.0, 40.0, 40.0, 3.0]

# ``kitti_odom.py``'s pipelines with the settings above (a base's values
# are fixed when it is read, so the steps that use them are re-set here).
sample_steps = dict(
    LoadOdomImages=dict(scale=img_scale),
    OdomPointsRangeFilter=dict(point_cloud_range=point_cloud_range),
    OdomPointSample=dict(num_points=num_points),
    NormalizeOdomIMU=dict(stats_file=imu_stats_file))
load_steps, train_pipeline, test_pipeline = ([
    dict(step, **sample_steps.get(step['type'], {})) for step in pipeline
] for pipeline in (_base_.load_steps, _base_.train_pipeline,
                   _base_.test_pipeline))
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        sequences=train_sequences,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, sequences=val_sequences, pipeline=test_pipeline))
test_dataloader = val_dataloader
