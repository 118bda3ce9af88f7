# Real KITTI IMU only: the poses of the odometry benchmark and the KITTI IMU
# resampled to the frames (imus/XX.mat), no images or scans.  Layout:
#   data/kitti_imu/poses/XX.txt, data/kitti_imu/imus/XX.mat
# (sequences/XX/calib.txt and times.txt are used where present).  Convert
# once, in the camera-0 frame of the targets, with the statistics of the
# training sequences (03 has no IMU file):
#   python tools/dataset_converters/kitti_odom_converter.py data/kitti_imu \
#       --imu-source mat --imu-only --imu-frame camera --frame-period 0.1 \
#       --stats-sequences 00,01,02,04,05,06,07,08
# Small enough for a CPU: the dataloaders run in the main process.
_base_ = ['./kitti_odom.py']

data_root = 'data/kitti_imu/'
train_sequences = '00,01,02,04,05,06,07,08'
val_sequences = '09,10'
imu_stats_file = data_root + 'infos/imu_stats.json'
modality = dict(use_camera=False, use_lidar=False, use_imu=True)

train_pipeline = [
    dict(type='NormalizeOdomIMU', stats_file=imu_stats_file),
    dict(type='PackOdomInputs'),
]
test_pipeline = train_pipeline

# Only the IMU, every window present (03, without IMU, is not listed), all
# ten samples of a window.
imu_dataset = dict(
    data_root=data_root,
    modality=modality,
    imu_missing='error',
    imu_max_len=None)
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        imu_dataset, sequences=train_sequences, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(imu_dataset, sequences=val_sequences, pipeline=test_pipeline))
test_dataloader = val_dataloader
